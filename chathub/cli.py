"""`flask chathub ...`: create-admin, seed, check, purge-revoked."""
import click
from flask import current_app
from flask.cli import AppGroup

chathub_cli = AppGroup("chathub", help="ChatHub administration commands.")

SECRET_WORDS = ("SECRET", "PASSWORD", "KEY", "TOKEN")


@chathub_cli.command("create-admin")
@click.option("--username", default=None, help="Defaults to CHATHUB_ADMIN_USERNAME.")
@click.option("--email", default=None, help="Defaults to CHATHUB_ADMIN_EMAIL.")
@click.option("--password", default=None, help="Defaults to CHATHUB_ADMIN_PASSWORD.")
def create_admin(username, email, password):
    """Create an admin account (or promote an existing one)."""
    from chathub.extensions import db
    from chathub.users import service

    config = current_app.config
    username = username or config["CHATHUB_ADMIN_USERNAME"]
    email = email or config["CHATHUB_ADMIN_EMAIL"]
    password = password or config["CHATHUB_ADMIN_PASSWORD"]
    user = service.find_by_login(username) or service.find_by_login(email)
    if user is not None:
        user.role = "admin"
        db.session.commit()
        click.echo(f"User {user.username} is now an admin.")
        return
    user = service.create_user(username, email, password, role="admin", subscription_type="premium")
    click.echo(f"Created admin {user.username} (id {user.id}).")


@chathub_cli.command("seed")
def seed():
    """Idempotent: the first admin, default providers and models."""
    from chathub.seed import seed_all

    for line in seed_all():
        click.echo(line)


@chathub_cli.command("purge-revoked")
def purge_revoked():
    """Delete revocations of tokens that have expired anyway (safe to run from cron)."""
    from chathub.auth.service import purge_expired_revocations

    click.echo(f"Purged {purge_expired_revocations()} expired token revocations.")


def redact(key, value):
    """A setting's value fit to print: secrets hidden, database passwords masked."""
    if isinstance(value, str) and "://" in value and "@" in value:
        scheme, rest = value.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    if any(word in key for word in SECRET_WORDS) and value not in (None, "", False, True):
        return "*** (set)"
    return value


@chathub_cli.command("check")
def check():
    """Print the effective configuration with secrets hidden."""
    shown = [
        "CHATHUB_ENV", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "JWT_SECRET_KEY", "CHATHUB_ENCRYPTION_KEY",
        "CHATHUB_DEMO_TOKEN", "CHATHUB_ADMIN_USERNAME", "CHATHUB_ADMIN_PASSWORD", "CHATHUB_ADMIN_EMAIL",
        "CHATHUB_ALLOW_REGISTRATION", "RATELIMIT_DEFAULT", "RATELIMIT_LOGIN", "RATELIMIT_STORAGE_URI",
        "CORS_ORIGINS", "PORT", "JWT_ACCESS_TOKEN_EXPIRES", "JWT_REFRESH_TOKEN_EXPIRES", "MAX_CONTENT_LENGTH",
        "DB_POOL_SIZE", "DB_MAX_OVERFLOW", "UPSTREAM_CONNECT_TIMEOUT", "UPSTREAM_READ_TIMEOUT",
        "CHATHUB_ALLOW_PRIVATE_UPSTREAMS",
    ]
    for key in shown:
        click.echo(f"{key} = {redact(key, current_app.config.get(key))}")
