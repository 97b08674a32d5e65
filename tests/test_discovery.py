"""Model discovery (000): `POST /api/models/discover` lists the provider's models with the key the
caller would chat with; `"import": true` (admins) adds the missing ones to the catalog, inactive."""
import pytest


@pytest.fixture
def fake(client, admin, fake_upstream):
    body = {"provider_key": "fake", "display_name": "Fake", "default_base_url": fake_upstream.url}
    assert client.post("/api/providers", headers=admin, json=body).status_code == 201
    model = {"model_name": "fake-model-1", "model_provider": "fake"}
    assert client.post("/api/models", headers=admin, json=model).status_code == 201


def give_key(client, headers, api_key="sk-discovery-key-0001"):
    body = {"model_provider": "fake", "api_key": api_key}
    assert client.post("/api/apikeys", headers=headers, json=body).status_code == 201


def test_discover_lists_upstream_models_with_the_callers_key(client, alice, fake, fake_upstream):
    give_key(client, alice)
    response = client.post("/api/models/discover", headers=alice, json={"provider_key": "fake"})
    assert response.status_code == 200
    assert response.get_json()["models"] == ["fake-model-1", "fake-model-2", "fake-vision-1"]
    assert fake_upstream.requests[-1]["headers"]["Authorization"] == "Bearer sk-discovery-key-0001"
    assert len(client.get("/api/models").get_json()) == 1  # listing alone changes nothing


def test_import_adds_missing_models_inactive_and_says_how_many(client, admin, fake):
    give_key(client, admin)
    first = client.post("/api/models/discover", headers=admin, json={"provider_key": "fake", "import": True}).get_json()
    assert first["imported"] == 2 and "2 model(s)" in first["message"]
    models = {m["model_name"]: m for m in client.get("/api/models").get_json()}
    assert set(models) == {"fake-model-1", "fake-model-2", "fake-vision-1"}
    assert models["fake-model-2"]["is_active"] is False and models["fake-model-2"]["model_provider"] == "fake"
    assert models["fake-model-1"]["is_active"] is True  # the existing one is untouched
    again = client.post("/api/models/discover", headers=admin, json={"provider_key": "fake", "import": True}).get_json()
    assert again["imported"] == 0


def test_only_admins_import(client, alice, fake):
    give_key(client, alice)
    response = client.post("/api/models/discover", headers=alice, json={"provider_key": "fake", "import": True})
    assert response.status_code == 403
    assert len(client.get("/api/models").get_json()) == 1


def test_discovery_errors(client, alice, admin, fake):
    assert client.post("/api/models/discover", json={"provider_key": "fake"}).status_code == 401
    no_key = client.post("/api/models/discover", headers=alice, json={"provider_key": "fake"})
    assert no_key.status_code == 400 and "/api/apikeys" in no_key.get_json()["error"]
    unknown = client.post("/api/models/discover", headers=alice, json={"provider_key": "nobody"})
    assert unknown.status_code == 404
    missing = client.post("/api/models/discover", headers=alice, json={})
    assert missing.status_code == 400 and "provider_key" in missing.get_json()["details"]
    give_key(client, alice, api_key="bad-discovery-key-0002")
    rejected = client.post("/api/models/discover", headers=alice, json={"provider_key": "fake"})
    assert rejected.status_code == 502 and "rejected the API key" in rejected.get_json()["error"]
    assert "bad-discovery-key-0002" not in rejected.get_data(as_text=True)
    provider_id = client.get("/api/providers", headers=alice).get_json()["data"][0]["id"]
    client.delete(f"/api/providers/{provider_id}", headers=admin)
    inactive = client.post("/api/models/discover", headers=alice, json={"provider_key": "fake"})
    assert inactive.status_code == 400 and inactive.get_json()["code"] == "PROVIDER_INACTIVE"
