"""Providers (001 §3): listing for signed-in users, admin-only changes, soft delete, and the seeded catalog."""
from sqlalchemy import select

from chathub.catalog.models import AiModel, Provider
from chathub.extensions import db

FIELDS = {"id", "provider_key", "display_name", "default_base_url", "is_active", "sort_order", "created_at",
          "updated_at"}


def add(client, admin, key, sort_order=0, **extra):
    body = {"provider_key": key, "display_name": key.title(), "default_base_url": f"https://{key}.example.com/v1",
            "sort_order": sort_order, **extra}
    response = client.post("/api/providers", headers=admin, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def test_list_needs_sign_in_and_shows_active_providers_in_order(client, admin, alice):
    add(client, admin, "second", sort_order=2)
    add(client, admin, "first", sort_order=1)
    add(client, admin, "off", sort_order=0, is_active=False)
    assert client.get("/api/providers").status_code == 401
    body = client.get("/api/providers", headers=alice).get_json()
    assert body["success"] is True
    assert [p["provider_key"] for p in body["data"]] == ["first", "second"]
    assert set(body["data"][0]) == FIELDS
    assert body["data"][0]["created_at"].endswith("Z")
    # Admins may ask for the deactivated ones too; users asking get the same active list.
    everything = client.get("/api/providers?include_inactive=true", headers=admin).get_json()["data"]
    assert [p["provider_key"] for p in everything] == ["off", "first", "second"]
    assert len(client.get("/api/providers?include_inactive=true", headers=alice).get_json()["data"]) == 2


def test_create_is_admin_only_validated_and_unique(client, admin, alice):
    body = {"provider_key": "custom_provider", "display_name": "Custom", "default_base_url": "https://api.custom.com/v1"}
    assert client.post("/api/providers", headers=alice, json=body).status_code == 403
    created = client.post("/api/providers", headers=admin, json=body)
    assert created.status_code == 201
    assert created.get_json()["data"]["is_active"] is True
    duplicate = client.post("/api/providers", headers=admin, json={**body, "provider_key": "Custom_Provider"})
    assert duplicate.status_code == 409 and duplicate.get_json()["code"] == "CONFLICT"
    bad = client.post("/api/providers", headers=admin, json={**body, "provider_key": "x2", "default_base_url": "ftp://x"})
    assert bad.status_code == 400 and "default_base_url" in bad.get_json()["details"]
    missing = client.post("/api/providers", headers=admin, json={"provider_key": "x3"})
    assert missing.status_code == 400 and "display_name" in missing.get_json()["details"]


def test_base_url_copied_with_endpoint_is_normalised_to_the_api_root(client, admin):
    created = add(client, admin, "sf", default_base_url="https://api.siliconflow.cn/v1/chat/completions/")
    assert created["default_base_url"] == "https://api.siliconflow.cn/v1"


def test_get_update_and_soft_delete(client, admin, alice):
    provider = add(client, admin, "acme")
    url = f"/api/providers/{provider['id']}"
    assert client.get(url, headers=alice).get_json()["data"]["provider_key"] == "acme"
    assert client.get("/api/providers/999", headers=alice).status_code == 404
    assert client.put(url, headers=alice, json={"display_name": "Nope"}).status_code == 403
    updated = client.put(url, headers=admin, json={"display_name": "Acme AI", "sort_order": 5,
                                                   "provider_key": "ignored"}).get_json()["data"]
    assert (updated["display_name"], updated["sort_order"], updated["provider_key"]) == ("Acme AI", 5, "acme")
    client.post("/api/models", headers=admin, json={"model_name": "acme-1", "model_provider": "acme"})

    assert client.delete(url, headers=alice).status_code == 403
    deleted = client.delete(url, headers=admin)
    assert deleted.status_code == 200 and deleted.get_json()["data"]["is_active"] is False
    # Soft: still readable by id, its models still listed, but gone from the provider list.
    assert client.get(url, headers=alice).get_json()["data"]["is_active"] is False
    assert [m["model_name"] for m in client.get("/api/models").get_json()] == ["acme-1"]
    assert client.get("/api/providers", headers=alice).get_json()["data"] == []
    assert client.delete("/api/providers/999", headers=admin).status_code == 404


def test_seed_adds_the_default_catalog_once(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["chathub", "seed"])
    assert first.exit_code == 0, first.output
    assert "catalog: 5 provider(s)" in first.output
    second = runner.invoke(args=["chathub", "seed"])
    assert "catalog: 0 provider(s) and 0 model(s) added" in second.output
    with app.app_context():
        urls = dict(db.session.execute(select(Provider.provider_key, Provider.default_base_url)).all())
        assert urls["openai"] == "https://api.openai.com/v1"
        assert urls["openrouter"] == "https://openrouter.ai/api/v1"
        assert set(urls) == {"openai", "siliconflow", "deepseek", "openrouter", "ollama"}
        per_provider = db.session.execute(select(AiModel.model_provider)).scalars().all()
        assert all(per_provider.count(key) >= 2 for key in urls)
