"""Service health (`/api/health`, 001 + 003's components)."""
from chathub.blueprint import Blueprint

blp = Blueprint("health", __name__, url_prefix="/api/health", description="Service health")

from chathub.health import routes  # noqa: E402,F401
