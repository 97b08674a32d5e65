"""Presets (`/api/presets`, 002): per-user CRUD, one default, validation, and `preset_for_chat`."""
import pytest

from chathub.errors import ApiError
from chathub.presets.service import preset_for_chat
from tests.test_chat import _no_generation_outlives_its_test, chatter  # noqa: F401 - fixtures

PRESET = {"name": "Concise", "system_prompt": "Answer in one sentence.", "temperature": 0.2, "max_tokens": 64,
          "model": "fake-model-1"}


def create(client, headers, **fields):
    response = client.post("/api/presets", headers=headers, json={**PRESET, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def test_crud(client, alice):
    preset = create(client, alice)
    assert {k: preset[k] for k in PRESET} == PRESET and preset["is_default"] is False
    url = f"/api/presets/{preset['id']}"
    assert client.get(url, headers=alice).get_json() == {"success": True, "data": preset, "message": "OK"}

    updated = client.put(url, headers=alice, json={"temperature": 1.5, "model": None, "name": "Brief"})
    assert updated.status_code == 200
    data = updated.get_json()["data"]
    assert (data["name"], data["temperature"], data["model"], data["max_tokens"]) == ("Brief", 1.5, None, 64)

    listed = client.get("/api/presets", headers=alice).get_json()["data"]
    assert [p["name"] for p in listed["items"]] == ["Brief"] and listed["pagination"]["total"] == 1

    assert client.delete(url, headers=alice).get_json()["success"] is True
    assert client.get(url, headers=alice).status_code == 404
    assert client.delete(url, headers=alice).status_code == 404


def test_minimal_preset_and_pagination(client, alice):
    preset = create(client, alice, name="Bare", system_prompt=None, temperature=None, max_tokens=None, model=None)
    assert (preset["system_prompt"], preset["temperature"], preset["max_tokens"]) == ("", None, None)
    for index in range(3):
        create(client, alice, name=f"P{index}")
    page = client.get("/api/presets?page=2&page_size=3", headers=alice).get_json()["data"]
    assert len(page["items"]) == 1 and page["pagination"]["total"] == 4 and page["pagination"]["has_prev"]


def test_only_one_default(client, alice):
    first = create(client, alice, name="A", is_default=True)
    second = create(client, alice, name="B", is_default=True)
    items = client.get("/api/presets", headers=alice).get_json()["data"]["items"]
    assert [(p["name"], p["is_default"]) for p in items] == [("B", True), ("A", False)]
    client.put(f"/api/presets/{first['id']}", headers=alice, json={"is_default": True})
    items = client.get("/api/presets", headers=alice).get_json()["data"]["items"]
    assert [(p["id"], p["is_default"]) for p in items] == [(first["id"], True), (second["id"], False)]


def test_names_are_unique_per_user(client, alice, user_headers):
    create(client, alice)
    duplicate = client.post("/api/presets", headers=alice, json={"name": "concise"})
    assert duplicate.status_code == 409 and duplicate.get_json()["code"] == "CONFLICT"
    other = create(client, alice, name="Other")
    assert client.put(f"/api/presets/{other['id']}", headers=alice, json={"name": "Concise"}).status_code == 409
    # Another user may use the same name.
    create(client, user_headers("bob"))


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": " "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "x", "temperature": 2.5}, "temperature"),
    ({"name": "x", "temperature": -1}, "temperature"),
    ({"name": "x", "temperature": "hot"}, "temperature"),
    ({"name": "x", "max_tokens": 0}, "max_tokens"),
    ({"name": "x", "max_tokens": 1.5}, "max_tokens"),
    ({"name": "x", "model": "m" * 201}, "model"),
    ({"name": "x", "is_default": "maybe"}, "is_default"),
])
def test_invalid_presets_are_400_naming_the_field(client, alice, body, field):
    response = client.post("/api/presets", headers=alice, json=body)
    assert response.status_code == 400 and field in response.get_json()["details"]


def test_presets_are_private(client, alice, user_headers):
    preset = create(client, alice)
    bob = user_headers("bob")
    url = f"/api/presets/{preset['id']}"
    assert client.get(url, headers=bob).status_code == 404
    assert client.put(url, headers=bob, json={"name": "mine"}).status_code == 404
    assert client.delete(url, headers=bob).status_code == 404
    assert client.get("/api/presets", headers=bob).get_json()["data"]["items"] == []
    assert client.get(url, headers=alice).get_json()["data"]["name"] == "Concise"
    assert client.get("/api/presets").status_code == 401


def test_preset_for_chat(client, alice, user_headers, app, make_user):
    preset = create(client, alice)
    default = create(client, alice, name="Default", is_default=True)
    user_headers("bob")
    with app.app_context():
        from chathub.users.service import find_by_login

        alice_id, bob_id = find_by_login("alice").id, find_by_login("bob").id
        chosen = preset_for_chat(alice_id, preset["id"])
        assert (chosen.system_prompt, chosen.temperature, chosen.max_tokens, chosen.model) == (
            "Answer in one sentence.", 0.2, 64, "fake-model-1")
        assert preset_for_chat(alice_id, str(preset["id"])).id == preset["id"]
        assert preset_for_chat(alice_id, None).id == default["id"]
        assert preset_for_chat(bob_id, None) is None
        for bad in (preset["id"], 10**12, "abc", True, -1):
            owner = bob_id if bad == preset["id"] else alice_id
            with pytest.raises(ApiError) as error:
                preset_for_chat(owner, bad)
            assert error.value.status == 404


def test_unstorable_text_is_a_400_not_a_500(client, alice):
    response = client.post("/api/presets", headers=alice, data='{"name": "x", "system_prompt": "a\\udc00"}',
                           content_type="application/json")
    assert response.status_code == 400 and "system_prompt" in response.get_json()["details"]


def test_a_chat_naming_a_preset_sends_its_prompt_and_parameters(client, chatter, fake_upstream):  # noqa: F811
    _user_id, headers = chatter("carol")
    preset = create(client, headers)
    response = client.post("/api/chat", headers=headers, json={"message": "hi", "preset_id": preset["id"]})
    assert response.status_code == 200, response.get_json()
    sent = fake_upstream.chat_requests()[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Answer in one sentence."}
    assert (sent["model"], sent["temperature"], sent["max_tokens"]) == ("fake-model-1", 0.2, 64)
    _bob_id, bob = chatter("dave")
    assert client.post("/api/chat", headers=bob, json={"message": "hi", "preset_id": preset["id"]}).status_code == 404
