"""LightTavern's chat (000 §4): `POST /api/chat` with `{characterId, chatId, userInput, model,
config: {maxHistory, includeExamples}}`, answered as a `text/plain` stream of the reply followed by
`[[LT_TOKEN_USAGE]]{"promptTokens":..,"completionTokens":..,"totalTokens":..}`.

The chat relay does the work (user message committed first, reply streamed as it arrives, partial
replies stored); this module picks the character and chat, builds the character's system prompt,
and shapes the answer. Failures before any text are 000's statuses (400 incomplete, 404 chat or
character, 502 upstream). A failure after text has been sent can no longer change the status: the
stream then ends without the usage marker (the partial reply is stored as `failed`).
"""
import json

from flask import Response, stream_with_context

from chathub.characters.prompt import build_system_prompt
from chathub.characters.service import get_character
from chathub.chat import generations
from chathub.chat import service as chat_service
from chathub.conversations import service as conversations
from chathub.errors import ApiError
from chathub.extensions import db
from chathub.users.models import User

USAGE_MARKER = "[[LT_TOKEN_USAGE]]"
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
REQUIRED = ("characterId", "chatId", "userInput")


def check_complete(body):
    """400 (000: 参数不完整) unless characterId, chatId and a non-blank userInput are present."""
    missing = [key for key in REQUIRED if not isinstance(body.get(key), str) or not body[key].strip()]
    if missing:
        raise ApiError(400, "VALIDATION_ERROR", "Incomplete request: " + ", ".join(missing) + " required",
                       {key: ["Missing data for required field."] for key in missing})


def chat_request(user_id, body):
    """The chat relay's request for a LightTavern body: the character's system prompt, the chat as the
    conversation, `maxHistory` as the history window. 404 for another user's (or a deleted) character, or
    a chat that is not the user's or not this character's."""
    check_complete(body)
    character = get_character(user_id, body["characterId"])
    conversation = conversations.get_owned_or_404(user_id, body["chatId"])
    if conversation.character_id != character.id:
        raise ApiError(404, "CONVERSATION_NOT_FOUND", "Chat not found for this character")
    config = body.get("config") or {}
    user = db.session.get(User, user_id)
    system_prompt = build_system_prompt(character, bool(config.get("includeExamples")), user.username)
    return {
        "message": body["userInput"],
        "conversation_id": conversation.id,
        "model": body.get("model"),
        "max_history": config.get("maxHistory"),
        "system_prompt": system_prompt,
    }


def usage_suffix(end):
    """The marker and usage JSON that close a successful reply."""
    usage = {"promptTokens": end.get("prompt_tokens", 0), "completionTokens": end.get("completion_tokens", 0),
             "totalTokens": end.get("total_tokens", 0)}
    return USAGE_MARKER + json.dumps(usage)


def first_event(events):
    """The first `content`, `end` or `error` event (skipping `start` and keep-alive ticks)."""
    for item in events:
        if item is not None and item[1].get("type") in ("content", "end", "error"):
            return item[1]
    return None


def upstream_failure(generation, event):
    """000's 502 for a reply that failed before any text (504 kept for a timeout, 503 for a shutdown)."""
    outcome = generation.wait(5.0) or {}
    status = outcome.get("http_status") if outcome.get("http_status") in (503, 504) else 502
    details = {"conversation_id": [generation.conversation_id], "message_id": [generation.message_id]}
    return ApiError(status, event.get("code") or "AI_API_ERROR", event.get("error") or "The model call failed", details)


def reply_text(first, events):
    """The text/plain body: the reply's text as it arrives, then the usage marker when it ended well."""
    event = first
    while event is not None:
        kind = event.get("type")
        if kind == "content":
            yield event["content"]
        elif kind == "end":
            if event.get("status") != "failed":
                yield usage_suffix(event)
            return
        elif kind == "error":
            return
        event = first_event(events)


def lighttavern_chat(user_id, body):
    """Run a LightTavern chat turn for `body` (000's fields, validated by the chat schema) and answer
    000's way: a `text/plain` stream of the reply, then `[[LT_TOKEN_USAGE]]` and the usage JSON."""
    plan = chat_service.prepare_chat(user_id, chat_request(user_id, body))
    generation = chat_service.launch(plan)
    events = generations.subscribe(generation, -1)
    first = first_event(events)
    if first is None or first.get("type") == "error":
        raise upstream_failure(generation, first or {})
    body_iter = reply_text(first, events)
    return Response(stream_with_context(body_iter), mimetype="text/plain", headers=STREAM_HEADERS)
