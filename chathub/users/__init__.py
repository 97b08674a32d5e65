"""User management (`/api/users`, 001 §9): admin CRUD and each user's own profile."""
from chathub.blueprint import Blueprint

blp = Blueprint("users", __name__, url_prefix="/api/users", description="User management and profiles")

from chathub.users import routes  # noqa: E402,F401
