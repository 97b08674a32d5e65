"""API keys (001 §7 + 003 organization keys): encrypted at rest, masked everywhere, per-user isolation,
base-URL policy, distribution and revocation, `available`, and the key tests against a real upstream."""
import logging
import socket

import pytest
from sqlalchemy import text

from chathub.extensions import db
from tests.conftest import make_app

SECRET = "sk-alice-very-secret-9f8e7d6c"


@pytest.fixture
def fake_provider(client, admin, fake_upstream):
    body = {"provider_key": "fake", "display_name": "Fake", "default_base_url": fake_upstream.url}
    assert client.post("/api/providers", headers=admin, json=body).status_code == 201
    model = {"model_name": "fake-model-1", "model_provider": "fake"}
    assert client.post("/api/models", headers=admin, json=model).status_code == 201
    return "fake"


def save(client, headers, api_key=SECRET, **extra):
    body = {"model_provider": "fake", "api_key": api_key, **extra}
    response = client.post("/api/apikeys", headers=headers, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def test_saved_key_is_masked_in_every_answer_and_never_logged(client, alice, fake_provider, caplog):
    caplog.set_level(logging.DEBUG)
    key = save(client, alice, name="mine")
    assert key["api_key"] == "sk-...7d6c"
    assert (key["scope"], key["is_active"], key["base_url"], key["name"]) == ("personal", True, None, "mine")
    answers = [
        client.get("/api/apikeys", headers=alice),
        client.get(f"/api/apikeys/{key['id']}", headers=alice),
        client.put(f"/api/apikeys/{key['id']}", headers=alice, json={"name": "renamed"}),
        client.post(f"/api/apikeys/{key['id']}/toggle", headers=alice),
        client.get("/api/apikeys/available", headers=alice),
        client.post(f"/api/apikeys/{key['id']}/test", headers=alice, json={}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 400), answer.get_json()
        assert SECRET not in answer.get_data(as_text=True) and SECRET[:-4] not in answer.get_data(as_text=True)
    assert client.get("/api/apikeys", headers=alice).get_json()["data"][0]["api_key"] == "sk-..." + SECRET[-4:]
    assert SECRET not in caplog.text


def test_key_is_encrypted_at_rest(client, alice, app, fake_provider):
    save(client, alice)
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM api_keys")).all()
    stored = " ".join(str(value) for value in rows[0])
    assert SECRET not in stored and SECRET[3:-4] not in stored
    assert "sk-..." + SECRET[-4:] in stored  # only the masked hint is kept in clear
    with app.app_context():
        from chathub.security import decrypt_secret

        ciphertext = db.session.execute(text("SELECT api_key_encrypted FROM api_keys")).scalar_one()
        assert decrypt_secret(ciphertext) == SECRET


def test_update_replaces_key_and_settings(client, alice, fake_provider, fake_upstream):
    key = save(client, alice)
    updated = client.put(f"/api/apikeys/{key['id']}", headers=alice,
                         json={"api_key": "sk-new-key-00001111", "base_url": fake_upstream.url + "/chat/completions"})
    data = updated.get_json()["data"]
    assert data["api_key"] == "sk-...1111" and data["base_url"] == fake_upstream.url
    cleared = client.put(f"/api/apikeys/{key['id']}", headers=alice, json={"base_url": ""}).get_json()["data"]
    assert cleared["base_url"] is None
    blank = client.put(f"/api/apikeys/{key['id']}", headers=alice, json={"api_key": "  "})
    assert blank.status_code == 400 and "api_key" in blank.get_json()["details"]
    unknown = client.put(f"/api/apikeys/{key['id']}", headers=alice, json={"model_provider": "nobody"})
    assert unknown.status_code == 400 and "model_provider" in unknown.get_json()["details"]


def test_create_validation(client, alice, fake_provider):
    missing = client.post("/api/apikeys", headers=alice, json={"model_provider": "fake"})
    assert missing.status_code == 400 and "api_key" in missing.get_json()["details"]
    for url in ("ftp://example.com", "not a url", "https://user:pw@example.com/v1", "https://"):
        body = {"model_provider": "fake", "api_key": "k", "base_url": url}
        bad = client.post("/api/apikeys", headers=alice, json=body)
        assert bad.status_code == 400 and "base_url" in bad.get_json()["details"], url
    unknown = client.post("/api/apikeys", headers=alice, json={"model_provider": "nobody", "api_key": "k"})
    assert unknown.status_code == 400 and "model_provider" in unknown.get_json()["details"]


def test_toggle_and_delete(client, alice, fake_provider):
    key = save(client, alice)
    url = f"/api/apikeys/{key['id']}"
    assert client.post(f"{url}/toggle", headers=alice).get_json()["data"]["is_active"] is False
    assert client.get("/api/apikeys/available", headers=alice).get_json()["data"] == []
    assert client.post(f"{url}/toggle", headers=alice).get_json()["data"]["is_active"] is True
    assert client.delete(url, headers=alice).status_code == 200
    assert client.get(url, headers=alice).status_code == 404
    assert client.get("/api/apikeys", headers=alice).get_json()["data"] == []


def test_another_users_key_is_404_for_everything(client, alice, user_headers, admin, fake_provider):
    bob = user_headers("bob")
    key = save(client, alice)
    url = f"/api/apikeys/{key['id']}"
    for response in (
        client.get(url, headers=bob),
        client.put(url, headers=bob, json={"name": "mine now"}),
        client.delete(url, headers=bob),
        client.post(f"{url}/toggle", headers=bob),
        client.post(f"{url}/test", headers=bob, json={}),
        # Admins manage organization keys, not other people's personal keys.
        client.get(url, headers=admin),
        client.post(f"{url}/distribute", headers=admin, json={"user_ids": [1]}),
    ):
        assert response.status_code == 404, response.get_json()
        assert "sk-..." not in response.get_data(as_text=True)
    assert client.get("/api/apikeys", headers=bob).get_json()["data"] == []
    assert client.get("/api/apikeys/available", headers=bob).get_json()["data"] == []
    assert client.get(url, headers=alice).get_json()["data"]["name"] is None  # untouched


def test_private_base_url_policy_when_private_upstreams_are_off(database_url, app, make_user, fake_provider):
    strict = make_app(database_url, CHATHUB_ALLOW_PRIVATE_UPSTREAMS=False)
    client = strict.test_client()
    make_user("carol")
    make_user("boss", role="admin")
    from tests.conftest import bearer, login

    carol = bearer(login(client, "carol")["token"])
    boss = bearer(login(client, "boss")["token"])
    for url in ("http://127.0.0.1:11434/v1", "http://localhost:8080/v1", "http://10.1.2.3/v1",
                "http://169.254.169.254/latest", "http://[::1]:9000/v1", "http://192.168.0.10/v1",
                "http://metadata.google.internal/v1"):
        body = {"model_provider": "fake", "api_key": "k", "base_url": url}
        refused = client.post("/api/apikeys", headers=carol, json=body)
        assert refused.status_code == 400, url
        assert "base_url" in refused.get_json()["details"]
    allowed = client.post("/api/apikeys", headers=boss,
                          json={"model_provider": "fake", "api_key": "k", "base_url": "http://127.0.0.1:11434/v1"})
    assert allowed.status_code == 201
    public = client.post("/api/apikeys", headers=carol,
                         json={"model_provider": "fake", "api_key": "k", "base_url": "https://1.1.1.1/v1"})
    assert public.status_code == 201


def test_private_base_url_allowed_when_setting_is_on(client, alice, fake_upstream, fake_provider):
    key = save(client, alice, base_url="http://127.0.0.1:11434/v1")
    assert key["base_url"] == "http://127.0.0.1:11434/v1"


def test_organization_key_distribution_and_revocation(client, admin, alice, user_headers, make_user, fake_provider):
    bob = user_headers("bob")
    assert client.post("/api/apikeys", headers=alice,
                       json={"model_provider": "fake", "api_key": "k", "scope": "organization"}).status_code == 403
    org = save(client, admin, api_key="sk-org-shared-key-4242", scope="organization", name="Team")
    assert org["scope"] == "organization"
    url = f"/api/apikeys/{org['id']}"
    bob_id = client.get("/api/users/profile", headers=bob).get_json()["data"]["id"]
    alice_id = client.get("/api/users/profile", headers=alice).get_json()["data"]["id"]

    assert client.post(f"{url}/distribute", headers=alice, json={"user_ids": [alice_id]}).status_code == 403
    unknown = client.post(f"{url}/distribute", headers=admin, json={"user_ids": [bob_id, 9999]})
    assert unknown.status_code == 400 and "9999" in unknown.get_json()["error"]
    bad = client.post(f"{url}/distribute", headers=admin, json={"user_ids": "bob"})
    assert bad.status_code == 400 and "user_ids" in bad.get_json()["details"]
    given = client.post(f"{url}/distribute", headers=admin, json={"user_ids": [bob_id, bob_id]})
    assert given.status_code == 200
    assert given.get_json()["data"]["distributed_to"] == [bob_id]

    available = client.get("/api/apikeys/available", headers=bob).get_json()["data"]
    assert [(e["id"], e["source"], e["api_key"]) for e in available] == [(org["id"], "organization", "sk-...4242")]
    assert client.get("/api/apikeys/available", headers=alice).get_json()["data"] == []
    # The recipient may chat with it but not read, change or test it as their own.
    assert client.get(url, headers=bob).status_code == 404
    assert client.put(url, headers=bob, json={"name": "x"}).status_code == 404
    assert client.get("/api/apikeys", headers=bob).get_json()["data"] == []

    records = client.get(f"{url}/distributions", headers=admin).get_json()["data"]
    admin_id = client.get("/api/users/profile", headers=admin).get_json()["data"]["id"]
    assert len(records) == 1 and records[0]["user"]["username"] == "bob"
    assert records[0]["distributor"]["id"] == admin_id and records[0]["distributed_at"].endswith("Z")
    assert records[0]["is_active"] is True
    assert client.get(f"{url}/distributions", headers=bob).status_code == 403

    assert client.delete(f"{url}/distribute/{bob_id}", headers=alice).status_code == 403
    assert client.delete(f"{url}/distribute/{bob_id}", headers=admin).status_code == 200
    assert client.get("/api/apikeys/available", headers=bob).get_json()["data"] == []
    assert client.delete(f"{url}/distribute/{bob_id}", headers=admin).status_code == 404
    records = client.get(f"{url}/distributions", headers=admin).get_json()["data"]
    assert records[0]["is_active"] is False and records[0]["revoked_at"]
    # Distributing again restores it.
    client.post(f"{url}/distribute", headers=admin, json={"user_ids": [bob_id]})
    assert len(client.get("/api/apikeys/available", headers=bob).get_json()["data"]) == 1


def test_only_organization_keys_can_be_distributed(client, admin, fake_provider):
    personal = save(client, admin)
    response = client.post(f"/api/apikeys/{personal['id']}/distribute", headers=admin, json={"user_ids": [1]})
    assert response.status_code == 400 and "organization" in response.get_json()["error"]
    assert client.get(f"/api/apikeys/{personal['id']}/distributions", headers=admin).status_code == 400
    assert client.post("/api/apikeys/999/distribute", headers=admin, json={"user_ids": [1]}).status_code == 404


def test_admins_see_every_organization_key(client, admin, user_headers, fake_provider):
    other_admin = user_headers("root2", role="admin")
    org = save(client, admin, scope="organization")
    save(client, admin)  # personal: not shown to the other admin
    listed = client.get("/api/apikeys", headers=other_admin).get_json()["data"]
    assert [k["id"] for k in listed] == [org["id"]]
    assert client.post(f"/api/apikeys/{org['id']}/toggle", headers=other_admin).status_code == 200


def test_available_lists_server_keys_from_the_environment(client, alice, app, fake_provider, monkeypatch):
    save(client, alice)
    monkeypatch.setitem(app.config, "OPENAI_API_KEY", "sk-server-openai-1234")
    with app.app_context():
        from chathub.catalog.models import Provider

        db.session.add(Provider(provider_key="openai", display_name="OpenAI", default_base_url="https://api.openai.com/v1"))
        db.session.commit()
    entries = client.get("/api/apikeys/available", headers=alice).get_json()["data"]
    assert [(e["source"], e["model_provider"]) for e in entries] == [("personal", "fake"), ("server", "openai")]
    assert entries[1]["id"] is None and entries[1]["api_key"] is None
    assert "sk-server-openai" not in client.get("/api/apikeys/available", headers=alice).get_data(as_text=True)
    monkeypatch.setitem(app.config, "CHATHUB_SHARE_SERVER_KEYS", False)
    entries = client.get("/api/apikeys/available", headers=alice).get_json()["data"]
    assert [e["source"] for e in entries] == ["personal"]


def test_test_key_endpoint_answers_ok_and_reports_failures(client, alice, fake_provider, fake_upstream):
    no_key = client.post("/api/test-key", headers=alice, json={"model": "fake-model-1"})
    assert no_key.status_code == 400 and "/api/apikeys" in no_key.get_json()["error"]
    save(client, alice)
    ok = client.post("/api/test-key", headers=alice, json={"model": "fake-model-1"})
    assert ok.status_code == 200 and ok.get_json()["ok"] is True
    sent = fake_upstream.chat_requests()[-1]
    assert sent["model"] == "fake-model-1" and sent["max_tokens"] == 1 and sent["stream"] is False
    unknown = client.post("/api/test-key", headers=alice, json={"model": "no-such-model"})
    assert unknown.status_code == 400 and "model" in unknown.get_json()["details"]
    assert client.post("/api/test-key", headers=alice, json={}).status_code == 400


def test_stored_key_test_reports_rejection_without_echoing_the_key(client, alice, fake_provider, fake_upstream):
    bad_secret = "bad-key-that-the-upstream-rejects-77"
    key = save(client, alice, api_key=bad_secret)
    response = client.post(f"/api/apikeys/{key['id']}/test", headers=alice, json={})
    assert response.status_code == 502
    body = response.get_json()
    assert body["code"] == "AI_API_ERROR" and "rejected the API key" in body["error"]
    assert bad_secret not in response.get_data(as_text=True)
    good = save(client, alice)
    no_body = client.post(f"/api/apikeys/{good['id']}/test", headers=alice)  # the body is optional
    assert no_body.status_code == 200 and no_body.get_json()["model"] == "fake-model-1"
    ok = client.post(f"/api/apikeys/{good['id']}/test", headers=alice, json={"model": "fake-model-2"}).get_json()
    assert ok["ok"] is True and ok["model"] == "fake-model-2" and ok["source"] == "personal"
    assert client.get(f"/api/apikeys/{good['id']}", headers=alice).get_json()["data"]["last_used_at"]
    failing = client.post(f"/api/apikeys/{good['id']}/test", headers=alice, json={"model": "fault-500"})
    assert failing.status_code == 502 and "The upstream model crashed" in failing.get_json()["error"]


def test_stored_key_test_reports_unreachable_provider(client, alice, fake_provider):
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = save(client, alice, base_url=f"http://127.0.0.1:{port}/v1")
    response = client.post(f"/api/apikeys/{key['id']}/test", headers=alice, json={})
    assert response.status_code == 502 and "Could not connect" in response.get_json()["error"]
