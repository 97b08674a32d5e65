"""LightTavern's chats and settings (`/api/cloud/chat-init`, `/api/cloud/chats`, `.../messages`,
`/api/cloud/settings`, 000 §3 §5): chats are ChatHub conversations bound to a character."""
import time

import pytest


def new_character(client, headers, **fields):
    response = client.post("/api/cloud/characters", headers=headers, json={"name": "Luna", **fields})
    assert response.status_code == 201
    return response.get_json()["character"]


def test_settings_read_and_write_the_model_preference(client, alice, admin):
    assert client.get("/api/cloud/settings", headers=alice).get_json() == {"settings": {"model": None}}
    client.put("/api/config", headers=admin, json={"default_model": "fake-model-2"})
    assert client.get("/api/cloud/settings", headers=alice).get_json() == {"settings": {"model": "fake-model-2"}}
    patched = client.patch("/api/cloud/settings", headers=alice, json={"model": "openai/gpt-4o-mini"})
    assert patched.get_json() == {"settings": {"model": "openai/gpt-4o-mini"}}
    assert client.get("/api/cloud/settings", headers=alice).get_json()["settings"]["model"] == "openai/gpt-4o-mini"
    session = client.get("/api/auth/session", headers=alice).get_json()
    assert session["profile"]["modelPreference"] == "openai/gpt-4o-mini"
    # Another user's settings are their own.
    assert client.get("/api/cloud/settings", headers=admin).get_json()["settings"]["model"] == "fake-model-2"
    cleared = client.patch("/api/cloud/settings", headers=alice, json={"model": None})
    assert cleared.get_json() == {"settings": {"model": "fake-model-2"}}


@pytest.mark.parametrize("body", [{}, {"model": ""}, {"model": "  "}, {"model": 5}, {"model": "m" * 201}])
def test_settings_validation(client, alice, body):
    response = client.patch("/api/cloud/settings", headers=alice, json=body)
    assert response.status_code == 400 and "model" in response.get_json()["details"]


def test_chat_init_creates_the_default_chat_with_the_greeting(client, alice):
    character = new_character(client, alice, greeting="Hello, traveller!")
    client.patch("/api/cloud/settings", headers=alice, json={"model": "fake-model-1"})
    response = client.get(f"/api/cloud/chat-init?characterId={character['id']}", headers=alice)
    assert response.status_code == 200
    body = response.get_json()
    assert body["character"]["id"] == character["id"] and body["model"] == "fake-model-1"
    chat = body["chat"]
    assert chat["characterId"] == character["id"] and chat["title"] == "默认会话" and chat["createdAt"].endswith("Z")
    [greeting] = body["messages"]
    assert (greeting["role"], greeting["content"]) == ("assistant", "Hello, traveller!")
    assert isinstance(greeting["timestamp"], int) and abs(greeting["timestamp"] / 1000 - time.time()) < 120
    assert greeting["tokenUsage"] == {"promptTokens": 0, "completionTokens": 0, "totalTokens": 0}
    # The same chat again, greeting not duplicated; it shows in ChatHub's conversations too.
    again = client.get(f"/api/cloud/chat-init?characterId={character['id']}", headers=alice).get_json()
    assert again["chat"]["id"] == chat["id"] and len(again["messages"]) == 1
    conversation = client.get(f"/api/conversations/{chat['id']}/messages", headers=alice)
    assert conversation.status_code == 200


def test_chat_init_corrects_a_changed_greeting_but_keeps_real_chats(client, alice):
    character = new_character(client, alice, greeting="Old hello")
    url = f"/api/cloud/chat-init?characterId={character['id']}"
    chat_id = client.get(url, headers=alice).get_json()["chat"]["id"]
    client.post(f"/api/cloud/chats/{chat_id}/messages", headers=alice, json={"role": "user", "content": "Hi"})
    client.patch(f"/api/cloud/characters/{character['id']}", headers=alice,
                 json={"name": "Luna", "greeting": "New hello"})
    messages = client.get(url, headers=alice).get_json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [("assistant", "New hello"), ("user", "Hi")]
    # A chat that opens with the user's message is left alone.
    other = client.post("/api/cloud/chats", headers=alice, json={"characterId": character["id"]}).get_json()["chat"]
    client.post(f"/api/cloud/chats/{other['id']}/messages", headers=alice, json={"role": "user", "content": "Me first"})
    messages = client.get(url, headers=alice).get_json()["messages"]  # `other` is now the latest chat
    assert [(m["role"], m["content"]) for m in messages] == [("user", "Me first")]


def test_chat_init_without_a_greeting_uses_first_mes_or_nothing(client, alice):
    with_first_mes = new_character(client, alice, first_mes="*waves*")
    plain = new_character(client, alice, name="Quiet")
    url = f"/api/cloud/chat-init?characterId={with_first_mes['id']}"
    messages = client.get(url, headers=alice).get_json()["messages"]
    assert [m["content"] for m in messages] == ["*waves*"]
    assert client.get(f"/api/cloud/chat-init?characterId={plain['id']}", headers=alice).get_json()["messages"] == []


def test_chat_init_errors(client, alice, user_headers):
    character = new_character(client, alice)
    assert client.get("/api/cloud/chat-init", headers=alice).status_code == 400
    assert client.get("/api/cloud/chat-init?characterId=nope", headers=alice).status_code == 404
    url = f"/api/cloud/chat-init?characterId={character['id']}"
    assert client.get(url, headers=user_headers("bob")).status_code == 404
    client.delete(f"/api/cloud/characters/{character['id']}", headers=alice)
    assert client.get(f"/api/cloud/chat-init?characterId={character['id']}", headers=alice).status_code == 404


def test_chats_list_and_create(client, alice):
    luna, sol = new_character(client, alice), new_character(client, alice, name="Sol")
    first = client.post("/api/cloud/chats", headers=alice, json={"characterId": luna["id"], "title": "Night talk"})
    assert first.status_code == 201
    chat = first.get_json()["chat"]
    assert (chat["characterId"], chat["title"]) == (luna["id"], "Night talk")
    untitled = client.post("/api/cloud/chats", headers=alice, json={"characterId": sol["id"]}).get_json()["chat"]
    assert untitled["title"] == "新会话"
    everything = client.get("/api/cloud/chats", headers=alice).get_json()["chats"]
    assert [c["id"] for c in everything] == [untitled["id"], chat["id"]]
    lunas = client.get(f"/api/cloud/chats?characterId={luna['id']}", headers=alice).get_json()["chats"]
    assert [c["id"] for c in lunas] == [chat["id"]]
    # A plain ChatHub conversation is not a character chat.
    client.post("/api/conversations", headers=alice, json={"title": "plain"})
    assert len(client.get("/api/cloud/chats", headers=alice).get_json()["chats"]) == 2
    # A deleted character's chats leave the list.
    client.delete(f"/api/cloud/characters/{sol['id']}", headers=alice)
    assert [c["id"] for c in client.get("/api/cloud/chats", headers=alice).get_json()["chats"]] == [chat["id"]]
    assert client.get(f"/api/cloud/chats?characterId={sol['id']}", headers=alice).status_code == 404


@pytest.mark.parametrize("body, field", [({}, "characterId"), ({"characterId": ""}, "characterId"),
                                         ({"characterId": "x", "title": "t" * 201}, "title")])
def test_chat_create_validation(client, alice, body, field):
    response = client.post("/api/cloud/chats", headers=alice, json=body)
    assert response.status_code == 400 and field in response.get_json()["details"]


def test_messages_get_post_delete(client, alice):
    character = new_character(client, alice)
    chat = client.post("/api/cloud/chats", headers=alice, json={"characterId": character["id"]}).get_json()["chat"]
    url = f"/api/cloud/chats/{chat['id']}/messages"
    assert client.get(url, headers=alice).get_json() == {"messages": []}
    assert client.post(url, headers=alice, json={"role": "assistant", "content": "你好"}).get_json() == {"ok": True}
    assert client.post(url, headers=alice, json={"role": "user", "content": "Hi"}).get_json() == {"ok": True}
    messages = client.get(url, headers=alice).get_json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [("assistant", "你好"), ("user", "Hi")]
    assert all(m["id"] and isinstance(m["timestamp"], int) and "tokenUsage" in m for m in messages)
    assert messages[0]["timestamp"] <= messages[1]["timestamp"]
    assert client.delete(url, headers=alice).get_json() == {"ok": True}
    assert client.get(url, headers=alice).get_json() == {"messages": []}
    assert client.get("/api/cloud/chats", headers=alice).get_json()["chats"][0]["id"] == chat["id"]  # the chat stays


@pytest.mark.parametrize("body, field", [({"content": "x"}, "role"), ({"role": "robot", "content": "x"}, "role"),
                                         ({"role": "user"}, "content"), ({"role": "user", "content": ""}, "content")])
def test_message_validation(client, alice, body, field):
    character = new_character(client, alice)
    chat = client.post("/api/cloud/chats", headers=alice, json={"characterId": character["id"]}).get_json()["chat"]
    response = client.post(f"/api/cloud/chats/{chat['id']}/messages", headers=alice, json=body)
    assert response.status_code == 400 and field in response.get_json()["details"]


def test_another_users_chats_are_404(client, alice, user_headers):
    bob = user_headers("bob")
    character = new_character(client, alice)
    chat = client.post("/api/cloud/chats", headers=alice, json={"characterId": character["id"]}).get_json()["chat"]
    url = f"/api/cloud/chats/{chat['id']}/messages"
    client.post(url, headers=alice, json={"role": "user", "content": "private"})
    assert client.get(url, headers=bob).status_code == 404
    assert client.post(url, headers=bob, json={"role": "user", "content": "x"}).status_code == 404
    assert client.delete(url, headers=bob).status_code == 404
    assert client.post("/api/cloud/chats", headers=bob, json={"characterId": character["id"]}).status_code == 404
    assert client.get("/api/cloud/chats", headers=bob).get_json() == {"chats": []}
    assert client.get(f"/api/cloud/chats?characterId={character['id']}", headers=bob).status_code == 404
    assert [m["content"] for m in client.get(url, headers=alice).get_json()["messages"]] == ["private"]
    unknown = "/api/cloud/chats/00000000-0000-4000-8000-000000000000/messages"
    assert client.get(unknown, headers=alice).status_code == 404


def test_cloud_needs_a_signed_in_user(client):
    for path in ("/api/cloud/settings", "/api/cloud/chats", "/api/cloud/chat-init?characterId=x"):
        assert client.get(path).status_code == 401
