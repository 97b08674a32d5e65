"""Chat rules: turning a request into a generation (conversation, credential, history, stored user
message and assistant placeholder), SSE events, resuming, stopping, joining a generation for the
non-streamed `/api/chat`, and the hook called when a generation ends."""
import json
import logging
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import insert, select, update

from chathub.chat import eventbus, generations, relay
from chathub.conversations import service as conversations
from chathub.conversations.models import Conversation, Message, new_id
from chathub.errors import ApiError, validation_error
from chathub.extensions import db
from chathub.keys.resolve import resolve_credential
from chathub.settings_store import runtime_setting
from chathub.stats.service import check_quota, record_usage
from chathub.timeutil import iso, utcnow
from chathub.users.models import User

log = logging.getLogger(__name__)

HISTORY_STATUSES = ("complete", "stopped")
STOP_WAIT_SECONDS = 5.0
FINAL_STATUSES = ("complete", "failed", "stopped")
CONVERSATIONS = Conversation.__table__
MESSAGES = Message.__table__


def normalise(data):
    """LightTavern's field names (`userInput`, `chatId`, `config.maxHistory`) as ChatHub's."""
    data = dict(data)
    if data.get("message") is None and data.get("userInput") is not None:
        data["message"] = data["userInput"]
    if not data.get("conversation_id") and data.get("chatId"):
        data["conversation_id"] = data["chatId"]
    if data.get("max_history") is None and (data.get("config") or {}).get("maxHistory") is not None:
        data["max_history"] = data["config"]["maxHistory"]
    return data


def new_turn(data):
    """(the new user message, the client's own earlier turns or None) from 001's `message` or 003's
    `messages` (whose last entry is the new user message; earlier entries replace stored history)."""
    if data.get("message") is not None:
        text = data["message"]
        earlier = None
    elif data.get("messages"):
        last = data["messages"][-1]
        if last["role"] != "user":
            raise validation_error("messages", "the last message must have role 'user'")
        text, earlier = last["content"], data["messages"][:-1] or None
    else:
        raise ApiError(400, "VALIDATION_ERROR", "Give `message` (or a `messages` list)",
                       {"message": ["Missing data for required field."]})
    if not text.strip():
        raise validation_error("message", "must not be empty")
    return text, earlier


def chat_preset(user_id, preset_id):
    """The preset a chat applies (named, or the user's default); None while presets do not exist."""
    try:
        from chathub.presets.service import preset_for_chat
    except ImportError:
        return None
    return preset_for_chat(user_id, preset_id)


def choose_model(user_id, data, preset, conversation):
    """The model: the request's, the preset's, the conversation's, the user's preference, the server's default."""
    user = db.session.get(User, user_id)
    for candidate in (data.get("model"), getattr(preset, "model", None), getattr(conversation, "model", None),
                      getattr(user, "model_preference", None),
                      runtime_setting("default_model", current_app.config.get("CHATHUB_DEFAULT_MODEL"))):
        if candidate and str(candidate).strip():
            return str(candidate).strip()
    raise ApiError(400, "VALIDATION_ERROR", "A model is required: name one (GET /api/models lists them)",
                   {"model": ["Missing data for required field."]})


def stored_history(conversation_id, limit):
    """The last `limit` usable messages of a conversation, oldest first (failed or empty replies skipped)."""
    if not conversation_id or limit <= 0:
        return []
    rows = db.session.execute(
        select(Message.role, Message.content)
        .where(Message.conversation_id == conversation_id, Message.status.in_(HISTORY_STATUSES), Message.content != "")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    ).all()
    return [{"role": role, "content": content} for role, content in reversed(rows)]


def max_history_of(data):
    """How many earlier messages go upstream: the request's `max_history`, else the setting."""
    if data.get("max_history") is not None:
        return data["max_history"]
    default = current_app.config["CHATHUB_DEFAULT_MAX_HISTORY"]
    try:
        return max(0, int(runtime_setting("default_max_history", default)))
    except (TypeError, ValueError):
        return int(default)


def prepare_chat(user_id, data):
    """Validate a chat request and store its start; the `ChatPlan` of the generation to run.

    The conversation is the caller's (404 otherwise) or a new one titled from the message; the
    credential is resolved (400 when none) before anything is stored; then the user message and the
    assistant placeholder (status `streaming`) are committed together, before the upstream call."""
    data = normalise(data)
    check_quota(user_id)
    text, earlier = new_turn(data)
    preset = chat_preset(user_id, data.get("preset_id"))
    conversation = None
    if data.get("conversation_id"):
        conversation = conversations.get_owned_or_404(user_id, data["conversation_id"])
    model = choose_model(user_id, data, preset, conversation)
    credential = resolve_credential(user_id, model)
    limit = max_history_of(data)
    if earlier is not None:
        history = [dict(m) for m in earlier][-limit:] if limit else []
    else:
        history = stored_history(conversation.id if conversation else None, limit)
    system_prompt = data.get("system_prompt") or getattr(preset, "system_prompt", None)
    upstream_messages = ([{"role": "system", "content": system_prompt}] if system_prompt else []) + history
    upstream_messages.append({"role": "user", "content": text})

    now = utcnow()
    # Core statements: the ORM's unit of work adds nothing to three plain rows but time.
    if conversation is None:
        conversation_id = new_id()
        db.session.execute(insert(CONVERSATIONS).values(
            id=conversation_id, user_id=user_id, title=conversations.title_from(text), model=model, metadata={},
            created_at=now, updated_at=now,
        ))
    else:
        conversation_id = conversation.id
        db.session.execute(
            update(CONVERSATIONS).where(CONVERSATIONS.c.id == conversation_id).values(model=model, updated_at=now)
        )
    ids = {"conversation_id": conversation_id, "user_message_id": new_id(), "message_id": new_id()}
    db.session.execute(insert(MESSAGES), [
        {"id": ids["user_message_id"], "conversation_id": conversation_id, "role": "user", "content": text,
         "status": "complete", "model": None, "created_at": now, "updated_at": now, "finished_at": now},
        {"id": ids["message_id"], "conversation_id": conversation_id, "role": "assistant", "content": "",
         "status": "streaming", "model": model, "created_at": now + timedelta(microseconds=1), "updated_at": now,
         "finished_at": None},
    ])
    db.session.commit()
    plan = relay.ChatPlan(
        user_id=user_id, **ids,
        model=model, credential=credential,
        payload=upstream_payload(credential, model, upstream_messages, data, preset),
        prompt_chars=sum(len(m["content"]) for m in upstream_messages), **limits(),
    )
    db.session.close()  # nothing below (waiting, streaming) may hold a connection
    return plan


def upstream_payload(credential, model, messages, data, preset):
    """The OpenAI chat completion request: streamed, asking for usage."""
    payload = {
        "model": credential.model_name or model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    for key in ("temperature", "max_tokens"):
        value = data.get(key) if data.get(key) is not None else getattr(preset, key, None)
        if value is not None:
            payload[key] = value
    return payload


def limits():
    """The generation limits from the settings."""
    config = current_app.config
    return {
        "flush_interval": float(config["CHATHUB_FLUSH_INTERVAL"]),
        "max_seconds": float(config["CHATHUB_MAX_GENERATION_SECONDS"]),
        "max_chars": int(config["CHATHUB_MAX_GENERATION_CHARS"]),
    }


def start_event(plan):
    """003's `start` event: the conversation and the assistant message being generated."""
    return {"type": "start", "conversation_id": plan.conversation_id, "message_id": plan.message_id,
            "user_message_id": plan.user_message_id, "model": plan.model}


def end_event(outcome):
    """003's `end` event: the stored message id, token usage and cost."""
    return {
        "type": "end", "message_id": outcome["message_id"], "conversation_id": outcome["conversation_id"],
        "status": outcome["status"], "finish_reason": outcome.get("finish_reason"),
        "tokens_used": outcome["total_tokens"], "prompt_tokens": outcome["prompt_tokens"],
        "completion_tokens": outcome["completion_tokens"], "total_tokens": outcome["total_tokens"],
        "cost": float(outcome["cost"]), "model": outcome.get("model"),
    }


def error_event(outcome):
    """003's `error` event: what failed (the partial reply, if any, is stored as failed)."""
    return {
        "type": "error", "error": outcome["error"] or "The generation failed",
        "code": outcome["code"] or "AI_API_ERROR",
        "message_id": outcome["message_id"], "conversation_id": outcome["conversation_id"], "status": "failed",
    }


def launch(plan):
    """Start the generation of `plan` in the background; its first event (`start`) is buffered at once."""
    app = current_app._get_current_object()
    generation = eventbus.new_generation(plan.message_id, plan.conversation_id, plan.user_id, plan.model)
    generation.publish(0, start_event(plan))
    return generations.start(generation, lambda g: relay.run(app, plan, g))


def sse(event_id, payload):
    """One SSE event with its id."""
    return f"id: {event_id}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def live_events(generation, after_id, abort_on_disconnect):
    """The SSE text of a running generation after `after_id`, live to its end. A client that goes
    away leaves the generation running (or stops it, with CHATHUB_ABORT_ON_DISCONNECT)."""
    complete = False
    try:
        for item in generations.subscribe(generation, after_id):
            yield ": keep-alive\n\n" if item is None else sse(*item)
        complete = True
    finally:
        if not complete and abort_on_disconnect:
            generation.request_stop("disconnect")


def owned_message(user_id, message_id):
    """The caller's assistant message (404 when missing or another user's)."""
    row = db.session.execute(
        select(Message, Conversation.user_id).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id == str(message_id))
    ).first()
    if row is None or row[1] != user_id or row[0].role != "assistant":
        raise ApiError(404, "NOT_FOUND", "Message not found")
    return row[0]


def stored_events(message, after_id):
    """The events of a message as stored: `start`, the content after `after_id`, and, when it is
    finished, `end` or `error` (ids as the live generation gave them)."""
    events = []
    content = message.content or ""
    if after_id < 0:
        events.append((0, {"type": "start", "conversation_id": message.conversation_id, "message_id": message.id,
                           "model": message.model}))
    if len(content) > max(after_id, 0):
        events.append((len(content), {"type": "content", "content": content[max(after_id, 0):]}))
    if message.status in FINAL_STATUSES and len(content) + 1 > after_id:
        outcome = outcome_of(message)
        events.append((len(content) + 1, error_event(outcome) if message.status == "failed" else end_event(outcome)))
    return events


def outcome_of(message):
    """A finished message as a generation outcome."""
    return {
        "message_id": message.id, "conversation_id": message.conversation_id, "model": message.model,
        "status": message.status, "content": message.content, "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens, "total_tokens": message.total_tokens,
        "cost": message.cost or 0, "code": message.error_code, "error": message.error_message,
        "finish_reason": {"complete": "stop", "stopped": "stopped"}.get(message.status),
    }


def resume(user_id, message_id, after_id, abort_on_disconnect):
    """The SSE text for `GET /api/chat/stream/{id}` after `after_id`: live from the running generation,
    else from the stored message (followed in the database while another worker still writes it)."""
    message = owned_message(user_id, message_id)
    generation = generations.get(message.id)
    if generation is not None:
        db.session.close()
        return live_events(generation, after_id, abort_on_disconnect)
    events = stored_events(message, after_id)
    running = message.status == "streaming"
    created_at, message_id = message.created_at, message.id
    db.session.close()
    if not running:
        return (sse(*event) for event in events)
    if eventbus.enabled():  # another worker or instance runs it: its events come through Redis
        return eventbus.follow(message_id, created_at, after_id, abort_on_disconnect)
    return follow_stored(current_app._get_current_object(), message_id, created_at, events, after_id)


def follow_stored(app, message_id, created_at, events, after_id):
    """SSE text of a message another worker is generating: what is stored, then new flushes as they
    land, until it is finished (or has plainly been abandoned by a worker that died)."""
    last = after_id
    interval = max(0.2, float(app.config["CHATHUB_FLUSH_INTERVAL"]))
    deadline = created_at + timedelta(seconds=float(app.config["CHATHUB_MAX_GENERATION_SECONDS"]) + 60)
    while True:
        for event_id, payload in events:
            last = event_id
            yield sse(event_id, payload)
            if payload["type"] in ("end", "error"):
                return
        time.sleep(interval)
        with app.app_context():
            message = db.session.get(Message, message_id)
            if message is None:
                return
            if message.status == "streaming" and utcnow() > deadline:
                yield sse(len(message.content or "") + 1, {
                    "type": "error", "error": "The generation was interrupted", "code": "INTERRUPTED",
                    "message_id": message_id, "conversation_id": message.conversation_id, "status": "failed"})
                return
            events = [e for e in stored_events(message, last) if e[0] > last]
            if not events:
                yield ": keep-alive\n\n"


def stop(user_id, message_id=None, conversation_id=None):
    """Stop the caller's generation (one message, or all in a conversation): the upstream is closed at
    once and the partial reply stored as `stopped`. The messages concerned, as stored."""
    if message_id:
        message = owned_message(user_id, message_id)
        ids = [message.id]
    elif conversation_id:
        conversation = conversations.get_owned_or_404(user_id, conversation_id)
        ids = [g.message_id for g in generations.running_in_conversation(conversation.id)]
        ids += [i for i in eventbus.running_in_conversation(conversation.id) if i not in ids]
    else:
        raise ApiError(400, "VALIDATION_ERROR", "Give `message_id` or `conversation_id`",
                       {"message_id": ["Missing data for required field."]})
    db.session.close()
    elsewhere = [i for i in ids if generations.get(i) is None]
    stopped = [g for g in (generations.stop(i, "user") for i in ids) if g is not None]
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    for generation in stopped:
        generation.wait(max(0.0, deadline - time.monotonic()))
    count = len(stopped) + eventbus.stop_elsewhere(elsewhere, "user", max(0.0, deadline - time.monotonic()))
    return db.session.execute(select(Message).where(Message.id.in_(ids))).scalars().all() if ids else [], count


def join(plan, generation):
    """Wait for a generation and give 001's answer, or raise its failure as the error envelope."""
    outcome = generation.wait()
    if outcome["status"] == "failed":
        # The user message is stored: say where, so the client can retry in the same conversation.
        details = {"conversation_id": [plan.conversation_id], "message_id": [plan.message_id]}
        raise ApiError(outcome["http_status"] or 502, outcome["code"] or "AI_API_ERROR",
                       outcome["error"] or "The generation failed", details)
    return {
        "conversation_id": plan.conversation_id, "response": outcome["content"], "model": plan.model,
        "timestamp": iso(outcome.get("finished_at") or utcnow()), "message_id": plan.message_id,
        "status": outcome["status"], "prompt_tokens": outcome["prompt_tokens"],
        "completion_tokens": outcome["completion_tokens"], "total_tokens": outcome["total_tokens"],
        "cost": float(outcome["cost"]),
    }


def record_generation_end(plan, outcome, started_monotonic, commit=True):
    """Called once when a generation ends (complete, failed or stopped), in an app context, with the
    message's final store: records its usage (tokens, cost, latency, key) for statistics and quotas.
    With `commit=False` the record joins the caller's transaction."""
    interrupted = outcome["code"] in ("CLIENT_DISCONNECTED", "SERVER_SHUTDOWN")
    record_usage(
        user_id=plan.user_id, conversation_id=plan.conversation_id, message_id=plan.message_id,
        model_name=plan.model, model_id=plan.credential.model_id, provider_key=plan.credential.provider_key,
        api_key_id=plan.credential.api_key_id, prompt_tokens=outcome["prompt_tokens"],
        completion_tokens=outcome["completion_tokens"], cost=outcome["cost"],
        first_token_ms=outcome.get("first_token_ms"),
        total_ms=round((time.monotonic() - started_monotonic) * 1000),
        status="interrupted" if interrupted else outcome["status"], commit=commit,
    )
