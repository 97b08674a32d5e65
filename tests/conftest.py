"""Shared fixtures: one app per session on a real database (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), emptied after every test; helpers to make users and sign in."""
import os

import pytest
from sqlalchemy import text

from chathub import create_app
from chathub.extensions import db, limiter
from chathub import settings_store

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
IS_POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgres"))
PASSWORD = "password123"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The database every test of this run uses."""
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'chathub-test.db'}"


def make_app(database_url, **overrides):
    """A testing app on the shared database, with overrides."""
    settings = {"CHATHUB_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url}
    settings.update(overrides)
    return create_app(settings)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """The session's application with a fresh schema."""
    application = make_app(database_url)
    application.instance_path = str(tmp_path_factory.mktemp("instance"))
    with application.app_context():
        db.drop_all()
        db.create_all()
    return application


def empty_all_tables():
    """Delete every row of every table (fast; keeps the schema)."""
    tables = list(reversed(db.metadata.sorted_tables))
    if IS_POSTGRES:
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Every test starts with empty tables, fresh rate-limit counters and no cached settings."""
    yield
    if "app" in request.fixturenames:
        application = request.getfixturevalue("app")
        with application.app_context():
            db.session.remove()
            empty_all_tables()
            db.session.remove()
    try:
        limiter.reset()
    except AssertionError:  # the limiter has no storage until an app exists
        pass
    settings_store.invalidate()


@pytest.fixture
def client(app):
    """A test client for the session app."""
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Factory: a user with the shared test password; returns (id, username)."""

    def factory(username="alice", role="user", email=None, active=True):
        from chathub.users import service

        with app.app_context():
            user = service.create_user(username, email or f"{username}@example.com", PASSWORD, role=role)
            if not active:
                service.set_active(user, False)
            return user.id

    return factory


def login(client, username, password=PASSWORD):
    """Sign in through the API; returns the response JSON (asserting success)."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token):
    """An Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def user_headers(app, make_user):
    """Factory: create a user and return Bearer headers for them (signed in on a separate client, so the
    shared `client` carries no cookies)."""

    def factory(username="alice", role="user"):
        make_user(username, role=role)
        return bearer(login(app.test_client(), username)["token"])

    return factory


@pytest.fixture
def alice(user_headers):
    """Headers of an ordinary user, alice."""
    return user_headers("alice")


@pytest.fixture
def admin(user_headers):
    """Headers of an admin, root."""
    return user_headers("root", role="admin")
