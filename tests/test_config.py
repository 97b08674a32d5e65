"""Settings: environments, and production refusing unsafe values with a message naming the setting."""
import pytest

from chathub import create_app
from chathub.config import ConfigError

SAFE = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "CHATHUB_ENCRYPTION_KEY": "e" * 40,
    "CHATHUB_ADMIN_PASSWORD": "a-strong-admin-password",
    "CHATHUB_DEMO_TOKEN": "",
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
}


def production(**changes):
    return create_app({"CHATHUB_ENV": "production", **SAFE, **changes})


def test_production_starts_with_safe_settings():
    app = production()
    assert app.config["CHATHUB_ENV"] == "production" and app.config["CHATHUB_ALLOW_PRIVATE_UPSTREAMS"] is False


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"SECRET_KEY": "dev-secret-change-me-before-any-real-deployment"}, "SECRET_KEY"),
        ({"JWT_SECRET_KEY": ""}, "JWT_SECRET_KEY"),
        ({"CHATHUB_ENCRYPTION_KEY": "short"}, "CHATHUB_ENCRYPTION_KEY"),
        ({"CHATHUB_ADMIN_PASSWORD": "admin123"}, "CHATHUB_ADMIN_PASSWORD"),
        ({"CHATHUB_DEMO_TOKEN": "demo-token"}, "CHATHUB_DEMO_TOKEN"),
        ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS"),
    ],
)
def test_production_refuses_unsafe_settings(changes, named):
    with pytest.raises(ConfigError) as excinfo:
        production(**changes)
    assert named in str(excinfo.value)


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="CHATHUB_ENV"):
        create_app("staging")


def test_development_defaults():
    app = create_app({"CHATHUB_ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["PORT"] == 5001 and app.config["RATELIMIT_DEFAULT"] == "60 per minute"
    assert int(app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()) == 1800
