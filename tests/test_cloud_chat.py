"""LightTavern's chat (`POST /api/chat` with 000's body): a `text/plain` stream of the reply ending with
`[[LT_TOKEN_USAGE]]` and the usage JSON; the character's system prompt and the `maxHistory` window as
the fake upstream received them; 000's 400/404/502; storage as the chat relay does it."""
import json

import pytest

from tests.test_chat import _no_generation_outlives_its_test, chatter, wait_until  # noqa: F401 - fixtures

MARKER = "[[LT_TOKEN_USAGE]]"
CARD = {
    "name": "Luna", "persona": "A calm moon spirit", "description": "Silver-haired guardian",
    "greeting": "Welcome, {{user}}.", "scenario": "A quiet night", "style": "Poetic", "rules": "Never lie",
    "mes_example": "<START>\n{{user}}: Hi\n{{char}}: Good evening.",
}


@pytest.fixture
def luna_chat(client, chatter):  # noqa: F811
    """(headers, character id, chat id) of alice's chat with Luna, opened by chat-init (greeting stored)."""
    _user_id, headers = chatter("alice")
    character = client.post("/api/cloud/characters", headers=headers, json=CARD).get_json()["character"]
    chat = client.get(f"/api/cloud/chat-init?characterId={character['id']}", headers=headers).get_json()["chat"]
    return headers, character["id"], chat["id"]


def lt_chat(client, headers, character_id, chat_id, text, model="fake-model-1", **config):
    body = {"characterId": character_id, "chatId": chat_id, "userInput": text, "model": model}
    if config:
        body["config"] = config
    return client.post("/api/chat", headers=headers, json=body)


def split_reply(response):
    """(reply text, usage dict or None) of a LightTavern stream."""
    text = response.get_data(as_text=True)
    if MARKER not in text:
        return text, None
    reply, usage = text.split(MARKER)
    return reply, json.loads(usage)


def test_reply_streams_as_text_then_usage(client, luna_chat, fake_upstream):
    headers, character_id, chat_id = luna_chat
    response = lt_chat(client, headers, character_id, chat_id, "hello moon")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["X-Accel-Buffering"] == "no"
    reply, usage = split_reply(response)
    assert reply == "Echo: hello moon"
    assert set(usage) == {"promptTokens", "completionTokens", "totalTokens"}
    assert usage["completionTokens"] == 3 and usage["totalTokens"] == usage["promptTokens"] + 3
    # Stored like any chat: greeting, user message, reply with its usage; visible in both APIs.
    messages = client.get(f"/api/cloud/chats/{chat_id}/messages", headers=headers).get_json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("assistant", "Welcome, {{user}}."), ("user", "hello moon"), ("assistant", "Echo: hello moon")]
    assert messages[-1]["tokenUsage"] == usage
    listed = client.get("/api/conversations", headers=headers).get_json()["data"]["items"]
    assert [c["id"] for c in listed] == [chat_id]


def test_upstream_receives_the_character_prompt_and_history_window(client, luna_chat, fake_upstream):
    headers, character_id, chat_id = luna_chat
    for text in ("one", "two", "three"):
        lt_chat(client, headers, character_id, chat_id, text, maxHistory=50).get_data()
    lt_chat(client, headers, character_id, chat_id, "four", maxHistory=2, includeExamples=True).get_data()
    sent = fake_upstream.chat_requests()[-1]
    assert sent["model"] == "fake-model-1" and sent["stream"] is True
    system, *rest = sent["messages"]
    assert system["role"] == "system"
    prompt = system["content"]
    for part in ("You are Luna.", "Persona: A calm moon spirit", "Description: Silver-haired guardian",
                 "Scenario: A quiet night", "Style: Poetic", "Rules: Never lie",
                 "Example dialogue:\n<START>\nalice: Hi\nLuna: Good evening."):
        assert part in prompt, part
    # maxHistory=2: the two latest earlier messages, then the new input.
    assert rest == [{"role": "user", "content": "three"}, {"role": "assistant", "content": "Echo: three"},
                    {"role": "user", "content": "four"}]

    lt_chat(client, headers, character_id, chat_id, "five", maxHistory=50, includeExamples=False).get_data()
    sent = fake_upstream.chat_requests()[-1]
    assert "Example dialogue" not in sent["messages"][0]["content"]
    # The whole chat, starting with the greeting, fits in a window of 50.
    assert sent["messages"][1] == {"role": "assistant", "content": "Welcome, {{user}}."}
    assert sent["messages"][-1] == {"role": "user", "content": "five"}


@pytest.mark.parametrize("missing", ["characterId", "chatId", "userInput"])
def test_incomplete_body_is_400(client, luna_chat, missing):
    headers, character_id, chat_id = luna_chat
    body = {"characterId": character_id, "chatId": chat_id, "userInput": "hi", "model": "fake-model-1"}
    body[missing] = "" if missing != "userInput" else "   "
    response = client.post("/api/chat", headers=headers, json=body)
    assert response.status_code == 400 and missing in response.get_json()["details"]


def test_unknown_or_foreign_character_or_chat_is_404(client, luna_chat, chatter):  # noqa: F811
    headers, character_id, chat_id = luna_chat
    unknown = "00000000-0000-4000-8000-000000000000"
    assert lt_chat(client, headers, unknown, chat_id, "hi").status_code == 404
    assert lt_chat(client, headers, character_id, unknown, "hi").status_code == 404
    other = client.post("/api/cloud/characters", headers=headers, json={"name": "Sol"}).get_json()["character"]
    assert lt_chat(client, headers, other["id"], chat_id, "hi").status_code == 404  # the chat is Luna's
    _bob_id, bob = chatter("bob")
    assert lt_chat(client, bob, character_id, chat_id, "hi").status_code == 404
    # Nothing was stored by the refused requests.
    messages = client.get(f"/api/cloud/chats/{chat_id}/messages", headers=headers).get_json()["messages"]
    assert [m["content"] for m in messages] == ["Welcome, {{user}}."]


def test_upstream_failure_before_any_text_is_502_and_keeps_the_user_message(client, luna_chat):
    headers, character_id, chat_id = luna_chat
    response = lt_chat(client, headers, character_id, chat_id, "are you there?", model="fault-500")
    assert response.status_code == 502
    assert response.get_json()["success"] is False and response.get_json()["code"] == "AI_API_ERROR"
    messages = client.get(f"/api/cloud/chats/{chat_id}/messages", headers=headers).get_json()["messages"]
    assert [(m["role"], m["content"]) for m in messages][1] == ("user", "are you there?")
    assert messages[-1]["status"] == "failed"


def test_failure_mid_stream_keeps_the_partial_reply_and_sends_no_usage(client, luna_chat):
    headers, character_id, chat_id = luna_chat
    # Two words, then the provider reports an error inside the stream.
    response = lt_chat(client, headers, character_id, chat_id, "a b c d e f", model="fault-error-object")
    assert response.status_code == 200
    reply, usage = split_reply(response)
    assert reply == "Echo: a " and usage is None

    def stored():
        messages = client.get(f"/api/cloud/chats/{chat_id}/messages", headers=headers).get_json()["messages"]
        return messages if messages[-1]["status"] == "failed" else None

    messages = wait_until(stored)
    assert messages[-1]["content"] == "Echo: a " and messages[-2]["content"] == "a b c d e f"


def test_model_falls_back_to_the_users_preference(client, luna_chat, fake_upstream):
    headers, character_id, chat_id = luna_chat
    client.patch("/api/cloud/settings", headers=headers, json={"model": "fake-model-1"})
    response = client.post("/api/chat", headers=headers,
                           json={"characterId": character_id, "chatId": chat_id, "userInput": "no model given"})
    assert split_reply(response)[0] == "Echo: no model given"
    assert fake_upstream.chat_requests()[-1]["model"] == "fake-model-1"
