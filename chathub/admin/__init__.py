"""Administration (`/api/admin`): 000's user creation and status, 003's user list and status."""
from chathub.blueprint import Blueprint

blp = Blueprint("admin", __name__, url_prefix="/api/admin", description="Administration")

from chathub.admin import routes  # noqa: E402,F401
