"""The catalog (`/api/providers`, `/api/models`, 001 §2 §3): upstream kinds and the models they serve."""
from chathub.blueprint import Blueprint

blp = Blueprint("catalog", __name__, url_prefix="/api", description="Providers, models and model discovery")

from chathub.catalog import routes  # noqa: E402,F401
