"""Which credential a chat uses: own active key, then a distributed organization key, then the server's
environment key; inactive providers, models and keys are skipped; clear 400s when nothing fits."""
from decimal import Decimal

import pytest

from chathub.catalog.models import AiModel, Provider
from chathub.errors import ApiError
from chathub.extensions import db
from chathub.keys.models import ApiKey, ApiKeyDistribution
from chathub.keys.resolve import resolve_credential
from chathub.security import encrypt_secret, mask_secret


@pytest.fixture
def users(make_user):
    return {"alice": make_user("alice"), "bob": make_user("bob"), "root": make_user("root", role="admin")}


@pytest.fixture
def catalog(app, fake_upstream):
    with app.app_context():
        db.session.add(Provider(provider_key="openai", display_name="OpenAI", default_base_url=fake_upstream.url))
        db.session.flush()
        db.session.add(AiModel(model_name="gpt-4o", display_name="GPT-4o", model_provider="openai",
                               input_price_per_1k=Decimal("0.0025"), output_price_per_1k=Decimal("0.01")))
        db.session.commit()


def add_key(app, user_id, secret, scope="personal", active=True, base_url=None, provider="openai"):
    with app.app_context():
        key = ApiKey(user_id=user_id, model_provider=provider, scope=scope, is_active=active, base_url=base_url,
                     api_key_encrypted=encrypt_secret(secret), key_hint=mask_secret(secret))
        db.session.add(key)
        db.session.commit()
        return key.id


def share(app, key_id, user_id, by, active=True):
    with app.app_context():
        db.session.add(ApiKeyDistribution(api_key_id=key_id, user_id=user_id, distributed_by=by, is_active=active))
        db.session.commit()


def resolve(app, user_id, model="gpt-4o"):
    with app.app_context():
        return resolve_credential(user_id, model)


def refusal(app, user_id, model="gpt-4o"):
    with pytest.raises(ApiError) as caught:
        resolve(app, user_id, model)
    return caught.value


def test_own_key_comes_first_with_the_models_prices(app, users, catalog, fake_upstream):
    org = add_key(app, users["root"], "sk-org-000000000000", scope="organization")
    share(app, org, users["alice"], users["root"])
    own = add_key(app, users["alice"], "sk-alice-1111111111")
    credential = resolve(app, users["alice"])
    assert (credential.api_key, credential.api_key_id, credential.source) == ("sk-alice-1111111111", own, "personal")
    assert credential.base_url == fake_upstream.url and credential.provider_key == "openai"
    assert credential.model_name == "gpt-4o" and credential.input_price_per_1k == Decimal("0.0025")
    assert credential.output_price_per_1k == Decimal("0.01") and credential.model_id is not None
    assert "sk-alice" not in repr(credential)


def test_newest_active_own_key_wins_and_inactive_keys_are_skipped(app, users, catalog):
    older = add_key(app, users["alice"], "sk-alice-older-00001")
    add_key(app, users["alice"], "sk-alice-off-0000002", active=False)
    assert resolve(app, users["alice"]).api_key_id == older
    newer = add_key(app, users["alice"], "sk-alice-newer-00003")
    assert resolve(app, users["alice"]).api_key_id == newer


def test_distributed_organization_key_then_server_key(app, users, catalog, monkeypatch):
    org = add_key(app, users["root"], "sk-org-000000000000", scope="organization")
    share(app, org, users["alice"], users["root"])
    credential = resolve(app, users["alice"])
    shown = (credential.source, credential.api_key_id, credential.api_key)
    assert shown == ("organization", org, "sk-org-000000000000")
    # Bob got nothing distributed and the server has no key: a 400 that says what to configure.
    error = refusal(app, users["bob"])
    assert error.status == 400 and error.code == "VALIDATION_ERROR"
    assert "/api/apikeys" in error.message and "OPENAI_API_KEY" in error.message
    monkeypatch.setitem(app.config, "OPENAI_API_KEY", "sk-server-2222222222")
    credential = resolve(app, users["bob"])
    assert (credential.source, credential.api_key_id, credential.api_key) == ("server", None, "sk-server-2222222222")
    assert credential.private_allowed is True
    monkeypatch.setitem(app.config, "CHATHUB_SHARE_SERVER_KEYS", False)
    assert refusal(app, users["bob"]).status == 400
    assert resolve(app, users["root"]).source == "personal"  # the admin's own organization key
    with app.app_context():
        db.session.execute(db.update(ApiKey).values(is_active=False))
        db.session.commit()
    assert resolve(app, users["root"]).source == "server"  # admins keep the server keys


def test_revoked_or_disabled_organization_keys_are_skipped(app, users, catalog):
    revoked = add_key(app, users["root"], "sk-org-revoked-00001", scope="organization")
    share(app, revoked, users["alice"], users["root"], active=False)
    disabled = add_key(app, users["root"], "sk-org-disabled-0002", scope="organization", active=False)
    share(app, disabled, users["alice"], users["root"])
    personal = add_key(app, users["root"], "sk-root-personal-003")
    share(app, personal, users["alice"], users["root"])  # only organization keys count as distributed
    assert refusal(app, users["alice"]).status == 400


def test_unknown_and_disabled_models_and_providers(app, users, catalog):
    add_key(app, users["alice"], "sk-alice-1111111111")
    unknown = refusal(app, users["alice"], "gpt-9")
    assert (unknown.status, unknown.code, unknown.details) == (400, "VALIDATION_ERROR", {"model": ["unknown model"]})
    assert "GET /api/models" in unknown.message
    assert refusal(app, users["alice"], " ").details == {"model": ["required"]}
    with app.app_context():
        db.session.execute(db.update(AiModel).values(is_active=False))
        db.session.commit()
    disabled = refusal(app, users["alice"])
    assert disabled.code == "VALIDATION_ERROR" and "disabled" in disabled.message
    with app.app_context():
        db.session.execute(db.update(AiModel).values(is_active=True))
        db.session.execute(db.update(Provider).values(is_active=False))
        db.session.commit()
    inactive = refusal(app, users["alice"])
    assert (inactive.status, inactive.code) == (400, "PROVIDER_INACTIVE")


def test_same_model_name_on_two_providers_uses_the_one_the_user_has_a_key_for(app, users, catalog, fake_upstream):
    with app.app_context():
        db.session.add(Provider(provider_key="openrouter", display_name="OpenRouter",
                                default_base_url=fake_upstream.url))
        db.session.flush()
        db.session.add(AiModel(model_name="gpt-4o", display_name="GPT-4o (OR)", model_provider="openrouter",
                               sort_order=5, input_price_per_1k=Decimal("0.003"), output_price_per_1k=Decimal("0.012")))
        db.session.commit()
    add_key(app, users["alice"], "sk-or-key-44444444", provider="openrouter")
    credential = resolve(app, users["alice"])
    assert credential.provider_key == "openrouter" and credential.input_price_per_1k == Decimal("0.003")
    add_key(app, users["alice"], "sk-openai-key-5555555")
    assert resolve(app, users["alice"]).provider_key == "openai"  # lower sort_order wins once usable


def test_key_base_url_overrides_the_provider_default_and_private_urls_are_trusted_only_when_allowed(
        app, users, catalog, monkeypatch):
    add_key(app, users["alice"], "sk-alice-1111111111", base_url="http://127.0.0.1:1/v1")
    add_key(app, users["root"], "sk-root-2222222222", base_url="http://127.0.0.1:2/v1")
    credential = resolve(app, users["alice"])
    assert credential.base_url == "http://127.0.0.1:1/v1" and credential.private_allowed is True
    monkeypatch.setitem(app.config, "CHATHUB_ALLOW_PRIVATE_UPSTREAMS", False)
    assert resolve(app, users["alice"]).private_allowed is False  # a user's own URL is checked at use
    assert resolve(app, users["root"]).private_allowed is True  # an admin's URL is trusted


def test_provider_default_url_is_trusted_even_when_private_upstreams_are_off(app, users, catalog, monkeypatch):
    monkeypatch.setitem(app.config, "CHATHUB_ALLOW_PRIVATE_UPSTREAMS", False)
    add_key(app, users["alice"], "sk-alice-1111111111")
    assert resolve(app, users["alice"]).private_allowed is True


def test_ollama_server_url_needs_no_key(app, users, monkeypatch):
    with app.app_context():
        db.session.add(Provider(provider_key="ollama", display_name="Ollama", default_base_url="http://localhost:11434/v1"))
        db.session.flush()
        db.session.add(AiModel(model_name="llama3.2", display_name="Llama", model_provider="ollama"))
        db.session.commit()
    assert refusal(app, users["alice"], "llama3.2").status == 400
    monkeypatch.setitem(app.config, "OLLAMA_BASE_URL", "http://ollama.internal:11434")
    credential = resolve(app, users["alice"], "llama3.2")
    assert (credential.api_key, credential.source, credential.base_url) == (None, "server", "http://ollama.internal:11434/v1")
    assert credential.input_price_per_1k == Decimal("0")


def test_key_that_cannot_be_decrypted_is_skipped(app, users, catalog):
    add_key(app, users["alice"], "sk-alice-1111111111")
    with app.app_context():
        db.session.execute(db.update(ApiKey).values(api_key_encrypted="garbage"))
        db.session.commit()
    assert refusal(app, users["alice"]).status == 400


def test_chat_model_fixture_gives_a_ready_credential(app, make_user, chat_model, fake_upstream):
    user_id = make_user("dora")
    name = chat_model("fake-model-2", user_id=user_id)
    credential = resolve(app, user_id, name)
    assert credential.base_url == fake_upstream.url and credential.api_key == "sk-test-0000abcd"
    assert credential.input_price_per_1k == Decimal("0.5")
