"""Shared fixtures: one app per session on a real database (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), emptied after every test; helpers to make users and sign in."""
import os

import pytest
from sqlalchemy import text

from chathub import create_app, settings_store
from chathub.extensions import db, limiter

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


@pytest.fixture(scope="session")
def fake_upstream():
    """A started OpenAI-compatible fake upstream on loopback for the whole run (tests/fake_upstream.py)."""
    from tests.fake_upstream import FakeUpstream

    server = FakeUpstream(slow_delay=0.05, hang_seconds=5.0).start()
    yield server
    server.stop()


@pytest.fixture
def chat_model(app, fake_upstream):
    """Factory: a catalog provider whose default base URL is the fake upstream, and an active model on it.

    `chat_model(name="fake-model-1", user_id=None, api_key="sk-test-0000abcd", provider_key="fake",
    input_price="0.5", output_price="1.5")` returns the model name; with `user_id` that user also gets
    a personal key for the provider, so `resolve_credential(user_id, name)` finds it.
    """
    from decimal import Decimal

    from chathub.catalog.models import AiModel, Provider
    from chathub.keys.models import ApiKey
    from chathub.security import encrypt_secret, mask_secret

    def factory(name="fake-model-1", user_id=None, api_key="sk-test-0000abcd", provider_key="fake",
                input_price="0.5", output_price="1.5"):
        with app.app_context():
            if db.session.execute(db.select(Provider).filter_by(provider_key=provider_key)).scalar() is None:
                db.session.add(Provider(provider_key=provider_key, display_name=provider_key.title(),
                                        default_base_url=fake_upstream.url, is_active=True))
                db.session.flush()
            db.session.add(AiModel(model_name=name, display_name=name, model_provider=provider_key,
                                   input_price_per_1k=Decimal(input_price), output_price_per_1k=Decimal(output_price)))
            if user_id is not None:
                db.session.add(ApiKey(user_id=user_id, model_provider=provider_key, scope="personal",
                                      api_key_encrypted=encrypt_secret(api_key), key_hint=mask_secret(api_key)))
            db.session.commit()
        return name

    return factory
