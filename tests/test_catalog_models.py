"""Models (001 §2): the public bare list with 001's fields and filters, exact decimal prices, and the
admin operations (create, update, delete, toggle, batch order)."""
from decimal import Decimal

import pytest
from sqlalchemy import text

from chathub.extensions import db

FIELDS_001 = {
    "id", "model_name", "display_name", "model_provider", "model_type", "max_tokens", "supports_streaming",
    "supports_function_calling", "supports_vision", "input_price_per_1k", "output_price_per_1k", "description",
    "is_active", "sort_order", "created_at", "updated_at",
}


@pytest.fixture
def providers(client, admin):
    for key in ("siliconflow", "openai"):
        body = {"provider_key": key, "display_name": key, "default_base_url": f"https://{key}.example.com/v1"}
        assert client.post("/api/providers", headers=admin, json=body).status_code == 201


def add(client, admin, name, provider="openai", **extra):
    response = client.post("/api/models", headers=admin, json={"model_name": name, "model_provider": provider, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def names(response):
    return [m["model_name"] for m in response.get_json()]


def test_list_is_public_bare_ordered_and_has_exactly_001s_fields(client, admin, providers):
    add(client, admin, "gpt-4o", sort_order=2, display_name="GPT-4o", supports_vision=True, max_tokens=4096,
        input_price_per_1k=5.0, output_price_per_1k=15.0, description="multimodal")
    add(client, admin, "Qwen/QwQ-32B-Instruct", provider="siliconflow", sort_order=1, input_price_per_1k=0.5,
        output_price_per_1k=1.5)
    response = client.get("/api/models")
    assert response.status_code == 200
    models = response.get_json()
    assert isinstance(models, list) and names(response) == ["Qwen/QwQ-32B-Instruct", "gpt-4o"]
    assert set(models[1]) == FIELDS_001
    gpt = models[1]
    shown = (gpt["display_name"], gpt["model_type"], gpt["max_tokens"], gpt["supports_vision"])
    assert shown == ("GPT-4o", "chat", 4096, True)
    assert gpt["input_price_per_1k"] == 5.0 and isinstance(gpt["output_price_per_1k"], float)
    assert models[0]["display_name"] == "Qwen/QwQ-32B-Instruct"  # defaults to the model name


def test_filters_active_only_provider_and_type(client, admin, providers):
    add(client, admin, "a", model_type="chat")
    add(client, admin, "b", model_type="embedding")
    add(client, admin, "c", provider="siliconflow", is_active=False)
    assert names(client.get("/api/models")) == ["a", "b", "c"]
    assert names(client.get("/api/models?active_only=true")) == ["a", "b"]
    assert names(client.get("/api/models?provider=siliconflow")) == ["c"]
    assert names(client.get("/api/models?type=embedding")) == ["b"]
    assert names(client.get("/api/models?active_only=true&provider=siliconflow")) == []
    bad = client.get("/api/models?active_only=maybe")
    assert bad.status_code == 400 and "active_only" in bad.get_json()["details"]


def test_prices_are_stored_as_exact_decimals(client, admin, app, providers):
    model = add(client, admin, "cheap", input_price_per_1k=0.00015, output_price_per_1k=0.1)
    assert model["input_price_per_1k"] == 0.00015
    with app.app_context():
        row = db.session.execute(text("SELECT input_price_per_1k, output_price_per_1k FROM ai_models")).one()
        assert Decimal(str(row[0])) == Decimal("0.00015") and Decimal(str(row[1])) == Decimal("0.1")
        from chathub.catalog.models import AiModel

        stored = db.session.get(AiModel, model["id"])
        assert isinstance(stored.input_price_per_1k, Decimal)
        # Decimal arithmetic stays exact where binary floats would drift.
        assert stored.output_price_per_1k * 3 == Decimal("0.3")


def test_create_is_admin_only_and_validated(client, admin, alice, providers):
    body = {"model_name": "gpt-4o", "model_provider": "openai"}
    assert client.post("/api/models", json=body).status_code == 401
    assert client.post("/api/models", headers=alice, json=body).status_code == 403
    add(client, admin, "gpt-4o")
    assert client.post("/api/models", headers=admin, json=body).status_code == 409
    unknown = client.post("/api/models", headers=admin, json={**body, "model_provider": "nobody"})
    assert unknown.status_code == 400 and "model_provider" in unknown.get_json()["details"]
    negative = client.post("/api/models", headers=admin, json={**body, "model_name": "x", "input_price_per_1k": -1})
    assert negative.status_code == 400 and "input_price_per_1k" in negative.get_json()["details"]
    for field, value in (("max_tokens", "many"), ("max_tokens", 1.5), ("input_price_per_1k", "0.5"),
                         ("supports_vision", "yes"), ("is_active", 1)):
        wrong_type = client.post("/api/models", headers=admin, json={**body, "model_name": "y", field: value})
        assert wrong_type.status_code == 400 and field in wrong_type.get_json()["details"], (field, value)


def test_get_update_delete_toggle(client, admin, alice, providers):
    model = add(client, admin, "gpt-4o")
    url = f"/api/models/{model['id']}"
    assert client.get(url).get_json()["data"]["model_name"] == "gpt-4o"
    assert client.put(url, headers=alice, json={"display_name": "x"}).status_code == 403
    updated = client.put(url, headers=admin, json={"display_name": "GPT-4o", "output_price_per_1k": 15,
                                                   "model_provider": "siliconflow"}).get_json()["data"]
    shown = (updated["display_name"], updated["output_price_per_1k"], updated["model_provider"])
    assert shown == ("GPT-4o", 15.0, "siliconflow")
    assert updated["model_name"] == "gpt-4o" and updated["is_active"] is True  # untouched fields stay
    assert client.put(url, headers=admin, json={"model_provider": "nobody"}).status_code == 400

    assert client.post(f"{url}/toggle", headers=alice).status_code == 403
    toggled = client.post(f"{url}/toggle", headers=admin).get_json()
    assert toggled["data"]["is_active"] is False and "disabled" in toggled["message"]
    assert client.post(f"{url}/toggle", headers=admin).get_json()["data"]["is_active"] is True

    assert client.delete(url, headers=alice).status_code == 403
    assert client.delete(url, headers=admin).status_code == 200
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=admin).status_code == 404
    assert client.post(f"{url}/toggle", headers=admin).status_code == 404


def test_batch_update_order(client, admin, alice, providers):
    a, b, c = (add(client, admin, name) for name in ("a", "b", "c"))
    pairs = {"models": [{"id": a["id"], "sort_order": 3}, {"id": b["id"], "sort_order": 1},
                        {"id": c["id"], "sort_order": 2}]}
    assert client.post("/api/models/batch-update-order", headers=alice, json=pairs).status_code == 403
    response = client.post("/api/models/batch-update-order", headers=admin, json=pairs)
    assert response.status_code == 200 and [m["model_name"] for m in response.get_json()["data"]] == ["b", "c", "a"]
    assert names(client.get("/api/models")) == ["b", "c", "a"]
    # The list form: ids in their new order.
    client.post("/api/models/batch-update-order", headers=admin, json={"model_ids": [c["id"], a["id"], b["id"]]})
    assert names(client.get("/api/models")) == ["c", "a", "b"]
    unknown = client.post("/api/models/batch-update-order", headers=admin, json={"model_ids": [a["id"], 999]})
    assert unknown.status_code == 400 and "999" in unknown.get_json()["error"]
    assert names(client.get("/api/models")) == ["c", "a", "b"]  # nothing changed
    empty = client.post("/api/models/batch-update-order", headers=admin, json={})
    assert empty.status_code == 400 and "models" in empty.get_json()["details"]
