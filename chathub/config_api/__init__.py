"""Runtime configuration (`/api/config`, 002): admin-only settings that apply without a restart."""
from chathub.blueprint import Blueprint
from chathub.extensions import limiter

blp = Blueprint("config", __name__, url_prefix="/api/config", description="Runtime configuration (admin)")
# Never rate limited by the default limit: an admin who sets it too low must still be able to undo it.
limiter.exempt(blp)

from chathub.config_api import routes  # noqa: E402,F401
