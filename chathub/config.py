"""Settings read from the environment (and `.env`), one class per deployment kind.

`load_config(name, overrides)` returns a plain dict; production refuses unsafe values.
"""
import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"

load_dotenv(BASE_DIR / ".env")

DEFAULT_SECRET = "dev-secret-change-me-before-any-real-deployment"
DEFAULT_ADMIN_PASSWORD = "admin123"


def env(name, default=None):
    """A setting from the environment; empty strings count as unset."""
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name, default=False):
    """A boolean setting: 1/true/yes/on are true."""
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name, default):
    """An integer setting."""
    value = env(name)
    return default if value is None else int(value)


def env_float(name, default):
    """A float setting."""
    value = env(name)
    return default if value is None else float(value)


class BaseConfig:
    """Settings shared by every environment."""

    CHATHUB_ENV = "development"
    SECRET_KEY = env("SECRET_KEY", DEFAULT_SECRET)
    JWT_SECRET_KEY = env("JWT_SECRET_KEY") or env("SECRET_KEY", DEFAULT_SECRET)
    CHATHUB_ENCRYPTION_KEY = env("CHATHUB_ENCRYPTION_KEY") or env("SECRET_KEY", DEFAULT_SECRET)
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'chathub.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": True,
        "hide_parameters": True,
    }
    DB_POOL_SIZE = env_int("DB_POOL_SIZE", 5)
    DB_MAX_OVERFLOW = env_int("DB_MAX_OVERFLOW", 10)
    DB_POOL_TIMEOUT = env_int("DB_POOL_TIMEOUT", 30)

    CHATHUB_DEMO_TOKEN = env("CHATHUB_DEMO_TOKEN", "")
    CHATHUB_ADMIN_USERNAME = env("CHATHUB_ADMIN_USERNAME", "admin")
    CHATHUB_ADMIN_PASSWORD = env("CHATHUB_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD)
    CHATHUB_ADMIN_EMAIL = env("CHATHUB_ADMIN_EMAIL", "admin@chathub.com")
    CHATHUB_ALLOW_REGISTRATION = env_bool("CHATHUB_ALLOW_REGISTRATION", True)
    PASSWORD_HASH_METHOD = env("PASSWORD_HASH_METHOD", "scrypt:32768:8:1")

    RATELIMIT_DEFAULT = env("RATELIMIT_DEFAULT", "60 per minute")
    RATELIMIT_LOGIN = env("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_SWALLOW_ERRORS = env_bool("RATELIMIT_SWALLOW_ERRORS", True)
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = env_bool("RATELIMIT_IN_MEMORY_FALLBACK", True)
    # Redis shared by every worker and instance: running generations' events and stop requests
    # (resume and stop work whichever worker a client reaches). Empty: generations stay in-process.
    REDIS_URL = env("REDIS_URL", "")

    CORS_ORIGINS = env("CORS_ORIGINS", "http://localhost:5173,http://127.0.0.1:5173")
    PORT = env_int("PORT", 5001)
    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 10 * 1024 * 1024)

    JWT_ACCESS_TOKEN_EXPIRES = env_int("JWT_ACCESS_TOKEN_EXPIRES", 1800)
    JWT_REFRESH_TOKEN_EXPIRES = env_int("JWT_REFRESH_TOKEN_EXPIRES", 30 * 24 * 3600)
    JWT_TOKEN_LOCATION = ["headers", "cookies"]
    JWT_COOKIE_SECURE = env_bool("JWT_COOKIE_SECURE", False)
    JWT_COOKIE_SAMESITE = env("JWT_COOKIE_SAMESITE", "Lax")
    JWT_COOKIE_CSRF_PROTECT = True
    JWT_ACCESS_COOKIE_PATH = "/"
    JWT_REFRESH_COOKIE_PATH = "/api/auth"

    UPSTREAM_CONNECT_TIMEOUT = env_float("UPSTREAM_CONNECT_TIMEOUT", 10.0)
    UPSTREAM_READ_TIMEOUT = env_float("UPSTREAM_READ_TIMEOUT", 120.0)
    CHATHUB_ALLOW_PRIVATE_UPSTREAMS = env_bool("CHATHUB_ALLOW_PRIVATE_UPSTREAMS", True)
    # Server keys from the environment (000), used when a user has no key of their own for a provider.
    OPENAI_API_KEY = env("OPENAI_API_KEY", "")
    OPENROUTER_API_KEY = env("OPENROUTER_API_KEY", "")
    SILICONFLOW_API_KEY = env("SILICONFLOW_API_KEY", "")
    DEEPSEEK_API_KEY = env("DEEPSEEK_API_KEY", "")
    OLLAMA_BASE_URL = env("OLLAMA_BASE_URL", "")
    # Whether every user (not only admins) may chat with the server keys above.
    CHATHUB_SHARE_SERVER_KEYS = env_bool("CHATHUB_SHARE_SERVER_KEYS", True)

    # Chat defaults (an admin can override both at runtime via /api/config).
    CHATHUB_DEFAULT_MODEL = env("CHATHUB_DEFAULT_MODEL", "")
    CHATHUB_DEFAULT_MAX_HISTORY = env_int("CHATHUB_DEFAULT_MAX_HISTORY", 20)
    # Chat generations: a disconnect stops the generation (true) or lets it finish and be stored (false);
    # seconds between partial-reply flushes to the database; bounds on one generation.
    CHATHUB_ABORT_ON_DISCONNECT = env_bool("CHATHUB_ABORT_ON_DISCONNECT", False)
    CHATHUB_FLUSH_INTERVAL = env_float("CHATHUB_FLUSH_INTERVAL", 1.0)
    CHATHUB_MAX_GENERATION_SECONDS = env_float("CHATHUB_MAX_GENERATION_SECONDS", 600.0)
    CHATHUB_MAX_GENERATION_CHARS = env_int("CHATHUB_MAX_GENERATION_CHARS", 200_000)
    # Character covers and card files (stored under CHATHUB_UPLOAD_DIR, default instance/uploads).
    CHATHUB_UPLOAD_DIR = env("CHATHUB_UPLOAD_DIR", "")
    CHATHUB_COVER_MAX_BYTES = env_int("CHATHUB_COVER_MAX_BYTES", 5 * 1024 * 1024)
    CHATHUB_CARD_MAX_BYTES = env_int("CHATHUB_CARD_MAX_BYTES", 8 * 1024 * 1024)

    API_TITLE = "ChatHub API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_REDOC_PATH = "/redoc"
    JSON_SORT_KEYS = False


class DevelopmentConfig(BaseConfig):
    """Local development: demo token allowed, private upstreams allowed."""

    CHATHUB_ENV = "development"


class TestingConfig(BaseConfig):
    """The test suite: cheap password hashing, no .env surprises."""

    CHATHUB_ENV = "testing"
    TESTING = True
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    SQLALCHEMY_DATABASE_URI = env("TEST_DATABASE_URL") or env("DATABASE_URL", "sqlite:///:memory:")
    RATELIMIT_DEFAULT = "10000 per minute"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_SWALLOW_ERRORS = False
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = False
    REDIS_URL = ""
    CHATHUB_DEMO_TOKEN = ""
    CHATHUB_ALLOW_REGISTRATION = True
    # The developer's own provider keys never leak into tests.
    OPENAI_API_KEY = OPENROUTER_API_KEY = SILICONFLOW_API_KEY = DEEPSEEK_API_KEY = OLLAMA_BASE_URL = ""
    CHATHUB_ALLOW_PRIVATE_UPSTREAMS = True


class ProductionConfig(BaseConfig):
    """Production: private upstreams off unless explicitly enabled."""

    CHATHUB_ENV = "production"
    CHATHUB_ALLOW_PRIVATE_UPSTREAMS = env_bool("CHATHUB_ALLOW_PRIVATE_UPSTREAMS", False)
    JWT_COOKIE_SECURE = env_bool("JWT_COOKIE_SECURE", True)


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


class ConfigError(RuntimeError):
    """A setting that makes it unsafe or impossible to start."""


def load_config(name=None, overrides=None):
    """The effective settings for `name` (default CHATHUB_ENV) with `overrides` applied."""
    name = name or env("CHATHUB_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"CHATHUB_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    cls = CONFIGS[name]
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = dict(settings["SQLALCHEMY_ENGINE_OPTIONS"])
    settings.update(overrides or {})
    if settings["CHATHUB_ENV"] == "production":
        check_production(settings)
    return settings


def check_production(settings):
    """Refuse to start production with a default or missing secret, admin password or demo token."""
    problems = []
    for key in ("SECRET_KEY", "JWT_SECRET_KEY", "CHATHUB_ENCRYPTION_KEY"):
        value = settings.get(key)
        if not value or value == DEFAULT_SECRET or len(value) < 32:
            problems.append(f"{key} must be set to a random value of at least 32 characters")
    if settings.get("CHATHUB_ADMIN_PASSWORD") in (None, "", DEFAULT_ADMIN_PASSWORD):
        problems.append("CHATHUB_ADMIN_PASSWORD must be set and not the default 'admin123'")
    if settings.get("CHATHUB_DEMO_TOKEN"):
        problems.append("CHATHUB_DEMO_TOKEN must be empty in production (the demo token is for development)")
    if settings.get("CORS_ORIGINS", "").strip() == "*":
        problems.append("CORS_ORIGINS cannot be '*' with credentialed CORS")
    if problems:
        raise ConfigError("Refusing to start in production: " + "; ".join(problems))
