"""ChatHub: a self-hosted, multi-user LLM chat backend.

`create_app()` reads as a table of contents: settings, extensions, blueprints, errors, commands.
"""
import logging
import os
from datetime import timedelta

from flask import Flask

__version__ = "0.1.0"

BLUEPRINT_MODULES = (
    "chathub.health",
    "chathub.auth",
    "chathub.users",
    "chathub.admin",
    "chathub.conversations",
    "chathub.chat",
    "chathub.catalog",
    "chathub.keys",
    "chathub.presets",
    "chathub.config_api",
    "chathub.cloud",
    "chathub.stats",
)


def create_app(config=None):
    """Build the application. `config` is an environment name or a dict of overrides."""
    from chathub.blueprint import BoundedIntConverter
    from chathub.config import INSTANCE_DIR, load_config

    name, overrides = (config, None) if isinstance(config, str) else (None, config)
    if overrides and "CHATHUB_ENV" in overrides:
        name = overrides["CHATHUB_ENV"]
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.from_mapping(load_config(name, overrides))
    app.json.sort_keys = False
    prepare_settings(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def prepare_settings(app):
    """Derive library settings from ours (token lifetimes, pool sizes, instance folder)."""
    from chathub.docs import configure as configure_docs

    config = app.config
    os.makedirs(app.instance_path, exist_ok=True)
    for key in ("JWT_ACCESS_TOKEN_EXPIRES", "JWT_REFRESH_TOKEN_EXPIRES"):
        if not isinstance(config[key], timedelta):
            config[key] = timedelta(seconds=int(config[key]))
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        uri = config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len("postgresql://"):]
    if uri.startswith("postgresql"):
        config["SQLALCHEMY_ENGINE_OPTIONS"].update(
            pool_size=config["DB_POOL_SIZE"],
            max_overflow=config["DB_MAX_OVERFLOW"],
            pool_timeout=config["DB_POOL_TIMEOUT"],
        )
    elif uri.startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("connect_args", {"timeout": 30})
    configure_docs(app)


def register_extensions(app):
    """Bind every extension to this app."""
    from chathub import database, models  # noqa: F401 - registers every table
    from chathub.auth.guards import register_jwt_callbacks
    from chathub.config import BASE_DIR
    from chathub.extensions import api, cors, db, jwt, limiter, migrate
    from chathub.openapi import configure_spec

    db.init_app(app)
    database.configure_engine_events(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    jwt.init_app(app)
    register_jwt_callbacks(jwt)
    limiter.init_app(app)
    origins = [o.strip() for o in app.config["CORS_ORIGINS"].split(",") if o.strip()]
    cors.init_app(app, resources={r"/api/*": {"origins": origins}}, supports_credentials=True)
    api.init_app(app)
    configure_spec(api)


def register_blueprints(app):
    """One blueprint per resource, plus the offline doc assets."""
    import importlib

    from chathub.docs import docs_assets
    from chathub.extensions import api, limiter

    for module_name in BLUEPRINT_MODULES:
        module = importlib.import_module(module_name)
        api.register_blueprint(module.blp)
    app.register_blueprint(docs_assets)
    # Health probes and the documentation are never rate limited.
    for name in ("health", "api-docs", "docs_assets"):
        if name in app.blueprints:
            limiter.exempt(app.blueprints[name])


def register_error_handlers(app):
    """Every error becomes the envelope."""
    from chathub.blueprint import refuse_nul_in_path
    from chathub.errors import register_error_handlers as register

    app.before_request(refuse_nul_in_path)
    register(app)


def register_commands(app):
    """`flask chathub ...`."""
    from chathub.cli import chathub_cli

    app.cli.add_command(chathub_cli)
    logging.getLogger("chathub").setLevel(logging.INFO)
