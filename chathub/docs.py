"""Swagger UI and ReDoc pages served with assets from an installed package (no CDN, works offline)."""
from pathlib import Path

import drf_spectacular_sidecar
from flask import Blueprint, send_from_directory

ASSETS = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar"

docs_assets = Blueprint("docs_assets", __name__)


@docs_assets.route("/docs/assets/<path:filename>")
def asset(filename):
    """A Swagger UI or ReDoc file from the sidecar package."""
    return send_from_directory(ASSETS, filename, max_age=86400)


def configure(app):
    """Point flask-smorest's doc pages at the locally served assets."""
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", "/docs/assets/swagger-ui-dist/")
    app.config.setdefault("OPENAPI_REDOC_URL", "/docs/assets/redoc/bundles/redoc.standalone.js")
    app.config.setdefault("OPENAPI_SWAGGER_UI_CONFIG", {"validatorUrl": None})
