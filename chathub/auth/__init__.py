"""Authentication: sign-in, registration, tokens, sessions (`/api/auth`)."""
from chathub.blueprint import Blueprint

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sign-in, registration and tokens")

from chathub.auth import routes  # noqa: E402,F401
