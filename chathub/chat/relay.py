"""The relay: one generation's thread body. It opens the upstream stream, forwards every delta to the
generation's event buffer the moment it arrives, and stores the final message (usage, cost, status)
at the end. Meanwhile the process's `PartialFlusher` stores the partial reply every
CHATHUB_FLUSH_INTERVAL seconds: one transaction per interval for every running generation whose text
changed since its last flush (rather than one commit per generation).

No database session or connection is held while waiting on the upstream: each write is a short
transaction in its own app context.
"""
import logging
import math
import socket
import threading
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import requests
import urllib3
from sqlalchemy import bindparam, update

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
        flusher = partial_flusher(app, plan.flush_interval)
        flusher.track(plan.message_id, reply)
        try:
            if generation.stop_reason is None:
                response = open_chat_stream(plan.credential, plan.payload)
                generation.attach_response(response)
                try:
                    read(plan, generation, reply, response)
                finally:
                    response.close()
        except ApiError as exc:
            reply.fail(exc.status, exc.code, exc.message)
        finally:
            flusher.untrack(plan.message_id)
        time.sleep(0)  # let readers send what is buffered before the (blocking) database writes
        finalize(app, plan, generation, reply)


def read(plan, generation, reply, response):
    """Forward the upstream's deltas until it ends, fails, or the generation is stopped."""
    parser = sse.ChatStreamParser()
    try:
        for chunk in raw_chunks(response):
            take(parser.feed(chunk), generation, reply)
            if reply.failure or generation.stop_reason:
                return
            if time.monotonic() - generation.started_at > plan.max_seconds:
                generation.request_stop("max_duration")
                return
            if reply.length >= plan.max_chars:
                generation.request_stop("max_length")
                return
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


MESSAGES = Message.__table__
CONVERSATIONS = Conversation.__table__
# The partial replies of a flush, as one executemany; a reply already finished is left alone.
FLUSH_PARTIAL = (
    update(MESSAGES)
    .where(MESSAGES.c.id == bindparam("b_id"), MESSAGES.c.status == "streaming")
    .values(content=bindparam("b_content"), updated_at=bindparam("b_at"))
)
MIN_FLUSH_SECONDS = 0.02
_flusher_lock = threading.Lock()


class PartialFlusher:
    """Stores the partial replies of one app's running generations in this process: every `interval`
    seconds, one transaction that updates each reply whose text grew since its last flush.

    Its thread (a greenlet under gevent) runs only while there are generations to watch. A failed
    flush is logged and retried at the next interval; the final store writes the whole reply anyway."""

    def __init__(self, app, interval):
        self.app = app
        self.interval = max(float(interval), MIN_FLUSH_SECONDS)
        self._watched = {}  # message_id -> [Reply, length flushed so far]
        self._lock = threading.Lock()
        self._thread = None

    def track(self, message_id, reply):
        """Watch a running generation's reply (starting the flusher thread when it is idle)."""
        with self._lock:
            self._watched[message_id] = [reply, 0]
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="partial-flusher", daemon=True)
                self._thread.start()

    def untrack(self, message_id):
        """Stop watching a generation (before its final message is stored)."""
        with self._lock:
            self._watched.pop(message_id, None)

    def _loop(self):
        while True:
            time.sleep(self.interval)
            with self._lock:
                if not self._watched:
                    self._thread = None
                    return
            try:
                self.flush_changed()
            except Exception:  # noqa: BLE001 - the flusher must outlive any one bad interval
                log.exception("the partial flusher failed; retrying at the next interval")

    def flush_changed(self):
        """Store every watched reply whose text changed since its last flush (one transaction);
        how many were written."""
        with self._lock:
            entries = sorted(self._watched.items())  # one lock order for concurrent writers
        changed = []
        for message_id, entry in entries:
            reply = entry[0]
            if reply.length != entry[1]:
                changed.append((message_id, "".join(reply.parts[:]), entry))
        if not changed:
            return 0
        now = utcnow()
        try:
            with self.app.app_context():
                db.session.execute(FLUSH_PARTIAL, [{"b_id": message_id, "b_content": content, "b_at": now}
                                                   for message_id, content, _ in changed])
                db.session.commit()
        except Exception:  # noqa: BLE001 - retried at the next interval, and the end stores it all
            log.exception("could not flush the partial replies of %d generations", len(changed))
            return 0
        for _, content, entry in changed:
            entry[1] = len(content)
        return len(changed)


def partial_flusher(app, interval):
    """This process's `PartialFlusher` for `app` (created on first use with `interval`)."""
    flusher = app.extensions.get("chathub_partial_flusher")
    if flusher is None:
        with _flusher_lock:
            flusher = app.extensions.setdefault("chathub_partial_flusher", PartialFlusher(app, interval))
    return flusher


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
    # Usage is recorded before clients hear the end, so a follow-up chat's quota check sees it.
    if not store_and_record(app, plan, outcome, generation.started_at):
        store_final(app, outcome)
        with app.app_context():
            try:
                record_generation_end(plan, outcome, generation.started_at)
            except Exception:  # noqa: BLE001 - accounting must not break the chat
                log.exception("recording the end of generation %s failed", plan.message_id)
    final_id = len(content) + 1
    generation.publish(final_id, error_event(outcome) if status == "failed" else end_event(outcome))
    generation.finish(outcome)
    return outcome


def store_and_record(app, plan, outcome, started_monotonic):
    """Store the final message and record its usage in ONE transaction; False (nothing stored) when
    anything failed, so the caller does both apart and a failed usage record never loses the reply."""
    from chathub.chat.service import record_generation_end

    try:
        with app.app_context():
            write_final(outcome)  # False (the conversation was deleted meanwhile): the usage still counts
            record_generation_end(plan, outcome, started_monotonic, commit=False)
            db.session.commit()
        return True
    except Exception:  # noqa: BLE001 - the caller retries the two writes separately, logging failures
        log.debug("storing generation %s in one transaction failed; storing it in two", plan.message_id)
        return False


def store_final(app, outcome):
    """Write the finished assistant message (nothing when its conversation was deleted meanwhile)."""
    try:
        with app.app_context():
            if write_final(outcome):
                db.session.commit()
            else:
                db.session.rollback()
    except Exception:  # noqa: BLE001 - the reply was streamed; a storage failure is logged, not raised
        log.exception("could not store the reply %s", outcome["message_id"])


def write_final(outcome):
    """UPDATE the finished message and its conversation's `updated_at` in the current transaction
    (not committed); False when the message no longer exists."""
    finished_at = outcome["finished_at"]
    written = db.session.execute(
        update(MESSAGES).where(MESSAGES.c.id == outcome["message_id"]).values(
            content=outcome["content"], status=outcome["status"], prompt_tokens=outcome["prompt_tokens"],
            completion_tokens=outcome["completion_tokens"], total_tokens=outcome["total_tokens"],
            cost=outcome["cost"], error_code=outcome["code"],
            error_message=(outcome["error"] or None) and outcome["error"][:500],
            finished_at=finished_at, updated_at=utcnow(),
        )
    ).rowcount
    if not written:
        return False
    db.session.execute(
        update(CONVERSATIONS).where(CONVERSATIONS.c.id == outcome["conversation_id"]).values(updated_at=finished_at)
    )
    return True
