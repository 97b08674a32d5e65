"""API keys (`/api/apikeys`, 001 §7 + 003 organization keys) and key tests (`/api/test-key`, 000)."""
from chathub.blueprint import Blueprint

blp = Blueprint("keys", __name__, url_prefix="/api", description="API keys, their distribution and tests")

from chathub.keys import routes  # noqa: E402,F401
