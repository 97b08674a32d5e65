"""The relay: one generation's thread body. It opens the upstream stream, forwards every delta to the
generation's event buffer the moment it arrives, flushes the partial reply to the database every
CHATHUB_FLUSH_INTERVAL seconds, and stores the final message (usage, cost, status) at the end.

No database session or connection is held while waiting on the upstream: each write is a short
transaction in its own app context.
"""
import logging
import math
import socket
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import requests
import urllib3
from sqlalchemy import update

from chathub.conversations.models import Conversation, Message
from chathub.errors import ApiError
from chathub.extensions import db
from chathub.timeutil import utcnow
from chathub.upstream import sse
from chathub.upstream.client import open_chat_stream

log = logging.getLogger(__name__)

READ_SIZE = 65536
CENT_FRACTION = Decimal("0.00000001")
# Why a generation was stopped -> (stored status, error code, finish_reason of the end event).
STOP_REASONS = {
    "user": ("stopped", None, "stopped"),
    "disconnect": ("stopped", "CLIENT_DISCONNECTED", "stopped"),
    "deleted": ("stopped", None, "stopped"),
    "max_duration": ("stopped", "MAX_DURATION", "length"),
    "max_length": ("stopped", "MAX_LENGTH", "length"),
    "shutdown": ("failed", "SERVER_SHUTDOWN", None),
}
SHUTDOWN_MESSAGE = "The server shut down during the generation; the partial reply was stored"


@dataclass
class ChatPlan:
    """Everything a generation needs, as plain values (no ORM objects cross into the thread)."""

    user_id: int
    conversation_id: str
    user_message_id: str
    message_id: str
    model: str
    credential: object
    payload: dict
    prompt_chars: int
    flush_interval: float = 1.0
    max_seconds: float = 600.0
    max_chars: int = 200_000


@dataclass
class Reply:
    """What the upstream has produced so far."""

    parts: list = field(default_factory=list)
    length: int = 0
    usage: dict | None = None
    failure: tuple | None = None  # (http status, code, message)
    finish_reason: str | None = None
    first_token_at: float | None = None

    def fail(self, status, code, message):
        """Record the first failure."""
        if self.failure is None:
            self.failure = (status, code, message)


def estimate_tokens(chars):
    """A token estimate for `chars` characters of text (about 4 per token), used when the upstream
    reports no usage."""
    return math.ceil(chars / 4) if chars > 0 else 0


def cost_of(prompt_tokens, completion_tokens, credential):
    """The cost of a reply from the model's per-1k prices, as a Decimal with 8 places."""
    cost = (Decimal(prompt_tokens) * Decimal(credential.input_price_per_1k or 0)
            + Decimal(completion_tokens) * Decimal(credential.output_price_per_1k or 0)) / Decimal(1000)
    return cost.quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)


def raw_chunks(response):
    """The upstream body as it arrives: each HTTP chunk, or whatever one read returns."""
    raw = response.raw
    if raw.chunked and raw.supports_chunked_reads():
        yield from raw.read_chunked(decode_content=True)
    else:
        while True:
            data = raw.read1(READ_SIZE, decode_content=True)
            if not data:
                break
            yield data
    response._content_consumed = True  # read to the end: let requests pool the connection


def run(app, plan, generation):
    """The generation's thread body: relay the upstream, then store and announce the result."""
    with app.app_context():
        reply = Reply()
        try:
            if generation.stop_reason is None:
                response = open_chat_stream(plan.credential, plan.payload)
                generation.attach_response(response)
                try:
                    read(app, plan, generation, reply, response)
                finally:
                    response.close()
        except ApiError as exc:
            reply.fail(exc.status, exc.code, exc.message)
        finalize(app, plan, generation, reply)


def read(app, plan, generation, reply, response):
    """Forward the upstream's deltas until it ends, fails, or the generation is stopped."""
    parser = sse.ChatStreamParser()
    last_flush, flushed = time.monotonic(), 0
    try:
        for chunk in raw_chunks(response):
            take(parser.feed(chunk), generation, reply)
            if reply.failure or generation.stop_reason:
                return
            now = time.monotonic()
            if now - generation.started_at > plan.max_seconds:
                generation.request_stop("max_duration")
                return
            if reply.length >= plan.max_chars:
                generation.request_stop("max_length")
                return
            if now - last_flush >= plan.flush_interval and reply.length != flushed:
                flush(app, plan.message_id, "".join(reply.parts))
                last_flush, flushed = now, reply.length
        take(parser.finish(), generation, reply)
    except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError, ValueError) as exc:
        if generation.stop_reason:
            return
        if isinstance(exc, (urllib3.exceptions.TimeoutError, requests.exceptions.Timeout, socket.timeout)):
            log.warning("upstream %s stalled mid-stream", plan.credential.provider_key)
            reply.fail(504, "UPSTREAM_TIMEOUT", "The provider stopped sending in the middle of the reply")
        else:
            log.warning("upstream %s broke mid-stream: %s", plan.credential.provider_key, type(exc).__name__)
            reply.fail(502, "AI_API_ERROR", "The connection to the provider broke in the middle of the reply")
        return
    if generation.stop_reason or reply.failure:
        return
    if not (parser.done or parser.finish_reason):
        detail = " after a malformed line" if parser.malformed else ""
        reply.fail(502, "AI_API_ERROR", f"The provider's stream ended{detail} before the reply was complete")


def take(items, generation, reply):
    """Apply parsed upstream items: publish content, keep usage, note an in-stream error."""
    for item in items:
        if item.kind == sse.DELTA:
            if item.finish_reason:
                reply.finish_reason = item.finish_reason
            if item.content:
                if reply.first_token_at is None:
                    reply.first_token_at = time.monotonic()
                reply.parts.append(item.content)
                reply.length += len(item.content)
                generation.publish(reply.length, {"type": "content", "content": item.content})
        elif item.kind == sse.USAGE:
            reply.usage = item.usage
        elif item.kind == sse.ERROR:
            reply.fail(502, "AI_API_ERROR", f"The provider reported an error: {item.error}")
            return
        elif item.kind == sse.MALFORMED:
            log.warning("upstream %s sent a malformed stream line", generation.model)


def flush(app, message_id, content):
    """Store the partial reply (a short transaction of its own)."""
    try:
        with app.app_context():
            db.session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == "streaming")
                .values(content=content, updated_at=utcnow())
            )
            db.session.commit()
    except Exception:  # noqa: BLE001 - a failed flush is retried at the next interval, and at the end
        log.exception("could not flush the partial reply of %s", message_id)


def usage_of(plan, reply, content, status):
    """(prompt, completion, total) tokens: the upstream's usage, else an estimate."""
    if reply.usage:
        usage = reply.usage
        return usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]
    if not content and status != "complete":
        return 0, 0, 0
    prompt, completion = estimate_tokens(plan.prompt_chars), estimate_tokens(len(content))
    return prompt, completion, prompt + completion


def finalize(app, plan, generation, reply):
    """Store the final message, publish the `end` or `error` event, and report the generation's end."""
    from chathub.chat.service import end_event, error_event, record_generation_end

    content = "".join(reply.parts)
    finish_reason = reply.finish_reason
    http_status, code, error = None, None, None
    if generation.stop_reason:
        status, code, finish_reason = STOP_REASONS.get(generation.stop_reason, ("stopped", None, "stopped"))
        if status == "failed":
            http_status, error = 503, SHUTDOWN_MESSAGE
    elif reply.failure:
        status = "failed"
        http_status, code, error = reply.failure
    else:
        status = "complete"
    prompt, completion, total = usage_of(plan, reply, content, status)
    cost = cost_of(prompt, completion, plan.credential)
    finished_at = utcnow()
    outcome = {
        "message_id": plan.message_id, "conversation_id": plan.conversation_id, "model": plan.model,
        "status": status, "content": content, "prompt_tokens": prompt, "completion_tokens": completion,
        "total_tokens": total, "cost": cost, "code": code, "error": error, "http_status": http_status,
        "finish_reason": finish_reason, "finished_at": finished_at,
        "first_token_ms": None if reply.first_token_at is None
        else round((reply.first_token_at - generation.started_at) * 1000),
    }
    store_final(app, outcome)
    # Usage is recorded before clients hear the end, so a follow-up chat's quota check sees it.
    with app.app_context():
        try:
            record_generation_end(plan, outcome, generation.started_at)
        except Exception:  # noqa: BLE001 - accounting must not break the chat
            log.exception("recording the end of generation %s failed", plan.message_id)
    final_id = len(content) + 1
    generation.publish(final_id, error_event(outcome) if status == "failed" else end_event(outcome))
    generation.finish(outcome)
    return outcome


def store_final(app, outcome):
    """Write the finished assistant message (nothing when its conversation was deleted meanwhile)."""
    try:
        with app.app_context():
            message = db.session.get(Message, outcome["message_id"])
            if message is None:
                return
            message.content = outcome["content"]
            message.status = outcome["status"]
            message.prompt_tokens = outcome["prompt_tokens"]
            message.completion_tokens = outcome["completion_tokens"]
            message.total_tokens = outcome["total_tokens"]
            message.cost = outcome["cost"]
            message.error_code = outcome["code"]
            message.error_message = (outcome["error"] or None) and outcome["error"][:500]
            message.finished_at = outcome["finished_at"]
            db.session.execute(
                update(Conversation).where(Conversation.id == outcome["conversation_id"])
                .values(updated_at=outcome["finished_at"])
            )
            db.session.commit()
    except Exception:  # noqa: BLE001 - the reply was streamed; a storage failure is logged, not raised
        log.exception("could not store the reply %s", outcome["message_id"])
