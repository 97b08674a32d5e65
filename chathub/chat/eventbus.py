"""Generations shared by every worker and instance through Redis (only when REDIS_URL is set).

The worker that runs a generation (its owner) mirrors each event to a Redis stream,
`chathub:chat:events:<message_id>`, with the entry id `<event id>-1` (event ids increase: see
`chathub.chat.generations`), so a reader can continue after any event id; the stream expires
ENDED_TTL_SECONDS after the generation ends. A worker that does not own a generation resumes it
by reading that stream after the requested id and then blocking (XREAD) for the rest. A stop on
any worker is published on the `chathub:chat:stop` channel, which every worker that runs
generations listens to; the owner acts on it at once (closing the upstream) and its final event,
mirrored like the others, tells the stopping worker it is done.

Redis speeds things up but is never the record: the database holds every reply. When Redis is
unreachable, generations run as usual (a warning is logged), a remote resume follows the
database's periodic flushes instead, and a remote stop waits until Redis is back. Event ids are
character offsets of the reply, so events from the stream and from the database mix safely.
"""
import json
import logging
import os
import threading
import time
from datetime import timedelta

import redis
from flask import current_app

from chathub.chat import generations

log = logging.getLogger(__name__)

STOP_CHANNEL = "chathub:chat:stop"
ENDED_TTL_SECONDS = 60
READ_BLOCK_MS = 2000
OUTAGE_BACKOFF_SECONDS = 2.0
FINAL_TYPES = ("end", "error")

_clients = {}
_state = {"down_until": 0.0, "warned": False, "listener_pid": None}
_lock = threading.Lock()


def events_key(message_id):
    """The Redis stream of one generation's events."""
    return f"chathub:chat:events:{message_id}"


def running_key(conversation_id):
    """The Redis set of the message ids being generated in one conversation."""
    return f"chathub:chat:running:{conversation_id}"


def redis_url():
    """REDIS_URL of the current app ('' when generations stay in this process)."""
    return current_app.config.get("REDIS_URL") or ""


def enabled():
    """True when generations are shared through Redis."""
    return bool(redis_url())


def client(url):
    """This process's Redis client for `url` (replies decoded; bounded timeouts)."""
    key = (os.getpid(), url)
    with _lock:
        if key not in _clients:
            _clients[key] = redis.Redis.from_url(
                url, decode_responses=True, socket_connect_timeout=1.0, socket_timeout=READ_BLOCK_MS / 1000 + 5,
                health_check_interval=15,
            )
        return _clients[key]


def reachable():
    """False for a moment after a Redis failure, so a dead Redis costs one error, not one per token."""
    return time.monotonic() >= _state["down_until"]


def outage(what, exc):
    """Note a Redis failure: log a warning once per outage and back off briefly."""
    _state["down_until"] = time.monotonic() + OUTAGE_BACKOFF_SECONDS
    if not _state["warned"]:
        _state["warned"] = True
        log.warning("Redis unreachable (%s: %s); generations continue in this process only", what,
                    type(exc).__name__)


def recovered():
    """Note a Redis success after an outage."""
    if _state["warned"]:
        _state["warned"] = False
        log.warning("Redis reachable again; generations are shared again")


class SharedGeneration(generations.Generation):
    """A generation that mirrors its events to Redis and can be stopped from any worker."""

    def __init__(self, url, running_ttl, *args):
        super().__init__(*args)
        self.url = url
        self.running_ttl = int(running_ttl)
        self.mirroring = True

    def publish(self, event_id, payload):
        """Buffer the event for this process's readers, then mirror it to the Redis stream."""
        super().publish(event_id, payload)
        if not self.mirroring:
            return
        if not reachable():
            self.mirroring = False  # a gap would break readers: they follow the database instead
            return
        key = events_key(self.message_id)
        try:
            pipe = client(self.url).pipeline(transaction=False)
            pipe.xadd(key, {"data": json.dumps(payload, ensure_ascii=False)}, id=f"{event_id}-1")
            if payload.get("type") == "start":
                pipe.expire(key, self.running_ttl)
                pipe.sadd(running_key(self.conversation_id), self.message_id)
                pipe.expire(running_key(self.conversation_id), self.running_ttl)
            pipe.execute()
            recovered()
        except redis.RedisError as exc:
            self.mirroring = False
            outage("mirroring events", exc)

    def finish(self, outcome):
        """Mark the generation over here, and let its Redis stream expire soon."""
        super().finish(outcome)
        if not reachable():
            return
        try:
            pipe = client(self.url).pipeline(transaction=False)
            if self.mirroring:
                pipe.expire(events_key(self.message_id), ENDED_TTL_SECONDS)
            else:
                pipe.delete(events_key(self.message_id))  # incomplete: readers use the database
            pipe.srem(running_key(self.conversation_id), self.message_id)
            pipe.execute()
        except redis.RedisError as exc:
            outage("ending a generation", exc)


def new_generation(message_id, conversation_id, user_id, model):
    """The Generation to run for a chat: shared through Redis when REDIS_URL is set, else in-process."""
    url = redis_url()
    if not url:
        return generations.Generation(message_id, conversation_id, user_id, model)
    ensure_stop_listener(url)
    running_ttl = float(current_app.config["CHATHUB_MAX_GENERATION_SECONDS"]) + 300
    return SharedGeneration(url, running_ttl, message_id, conversation_id, user_id, model)


def ensure_stop_listener(url):
    """Start (once per process) the thread that acts on stop requests published by other workers."""
    with _lock:
        if _state["listener_pid"] == os.getpid():
            return
        _state["listener_pid"] = os.getpid()
    ready = threading.Event()
    thread = threading.Thread(target=listen_for_stops, args=(url, ready), name="chathub-stop-listener", daemon=True)
    thread.start()
    ready.wait(2.0)  # subscribed before the first generation starts (or Redis is down: go on)


def listen_for_stops(url, ready):
    """Subscribe to STOP_CHANNEL forever (re-subscribing after Redis outages); stop local generations."""
    while True:
        pubsub = None
        try:
            pubsub = client(url).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(STOP_CHANNEL)
            pubsub.get_message(timeout=1.0)  # the subscribe confirmation
            ready.set()
            while True:
                message = pubsub.get_message(timeout=30.0)
                if message and message.get("type") == "message":
                    act_on_stop(message["data"])
        except redis.RedisError as exc:
            outage("listening for stops", exc)
        except Exception:  # noqa: BLE001 - the listener must outlive any bad message
            log.exception("the stop listener failed; restarting it")
        finally:
            ready.set()
            if pubsub is not None:
                try:
                    pubsub.close()
                except Exception:  # noqa: BLE001 - already broken
                    pass
        time.sleep(OUTAGE_BACKOFF_SECONDS)


def act_on_stop(data):
    """Stop the named generation if this process runs it."""
    request = json.loads(data)
    if generations.stop(request["message_id"], request.get("reason") or "user") is not None:
        log.info("generation %s stopped at the request of another worker", request["message_id"])


def last_event(conn, message_id):
    """(event id, payload) of the last mirrored event of a generation, or None when there is none."""
    entries = conn.xrevrange(events_key(message_id), count=1)
    if not entries:
        return None
    entry_id, fields = entries[0]
    return int(entry_id.split("-")[0]), json.loads(fields["data"])


def running_in_conversation(conversation_id):
    """Message ids being generated in a conversation on any worker (as far as Redis knows)."""
    url = redis_url()
    if not url or not reachable():
        return []
    try:
        return sorted(client(url).smembers(running_key(conversation_id)))
    except redis.RedisError as exc:
        outage("listing generations", exc)
        return []


def stop_elsewhere(message_ids, reason, timeout):
    """Ask the workers that own these generations to stop them, and wait (up to `timeout` in all) for
    their final events. The number of generations that ended."""
    url = redis_url()
    if not url or not message_ids or not reachable():
        return 0
    deadline = time.monotonic() + timeout
    conn = client(url)
    try:
        waiting = {}
        for message_id in message_ids:
            last = last_event(conn, message_id)
            if last is not None and last[1].get("type") not in FINAL_TYPES:
                waiting[message_id] = last[0]
                conn.publish(STOP_CHANNEL, json.dumps({"message_id": message_id, "reason": reason}))
        ended = 0
        for message_id, after in waiting.items():
            if wait_for_final(conn, message_id, after, deadline):
                ended += 1
        return ended
    except redis.RedisError as exc:
        outage("stopping a generation", exc)
        return 0


def wait_for_final(conn, message_id, after, deadline):
    """Block until the stream of `message_id` has a final event after `after` (False at the deadline)."""
    while True:
        remaining_ms = int((deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0:
            return False
        found = conn.xread({events_key(message_id): f"{after}-1"}, block=min(remaining_ms, READ_BLOCK_MS))
        for _, entries in found or []:
            for entry_id, fields in entries:
                after = int(entry_id.split("-")[0])
                if json.loads(fields["data"]).get("type") in FINAL_TYPES:
                    return True


def read_stream(url, message_id, last, block):
    """([(event id, payload)] after `last`, Redis reachable?) — blocking up to READ_BLOCK_MS when `block`."""
    if not reachable():
        return [], False
    try:
        found = client(url).xread({events_key(message_id): f"{last}-1" if last >= 0 else "0-0"},
                                  block=READ_BLOCK_MS if block else None, count=500)
    except redis.RedisError as exc:
        outage("resuming a generation", exc)
        return [], False
    recovered()
    return [(int(entry_id.split("-")[0]), json.loads(fields["data"]))
            for _, entries in found or [] for entry_id, fields in entries], True


def stored_after(app, message_id, last, deadline):
    """(the stored events of a message after `last`, whether the message is gone); an INTERRUPTED error
    event once a reply still marked `streaming` is past its deadline (its worker died)."""
    from chathub.chat.service import stored_events
    from chathub.conversations.models import Message
    from chathub.extensions import db
    from chathub.timeutil import utcnow

    with app.app_context():
        message = db.session.get(Message, message_id)
        if message is None:
            return [], True
        if message.status == "streaming" and utcnow() > deadline:
            return [(max(last, len(message.content or "")) + 1, {
                "type": "error", "error": "The generation was interrupted", "code": "INTERRUPTED",
                "message_id": message_id, "conversation_id": message.conversation_id, "status": "failed"})], False
        return [event for event in stored_events(message, last) if event[0] > last], False


def follow(message_id, created_at, after_id, abort_on_disconnect):
    """The SSE text of a generation another worker runs, after `after_id`: its Redis stream live; when
    the stream is silent, what the database has stored beyond it (Redis down, or a worker that
    died); ends with the final event (or INTERRUPTED once the generation is plainly abandoned)."""
    from chathub.chat import service

    app = current_app._get_current_object()
    url = redis_url()
    interval = max(0.2, float(app.config["CHATHUB_FLUSH_INTERVAL"]))
    deadline = created_at + timedelta(seconds=float(app.config["CHATHUB_MAX_GENERATION_SECONDS"]) + 60)

    def generate():
        last, block, complete = after_id, False, False
        try:
            while True:
                events, live = read_stream(url, message_id, last, block)
                if not events:
                    events, gone = stored_after(app, message_id, last, deadline)
                    if gone:
                        return
                    if not events:
                        yield ": keep-alive\n\n"
                        if not live:
                            time.sleep(interval)
                for event_id, payload in events:
                    if event_id <= last:
                        continue
                    last = event_id
                    yield service.sse(event_id, payload)
                    if payload["type"] in FINAL_TYPES:
                        complete = True
                        return
                block = True
        finally:
            if not complete and abort_on_disconnect:
                with app.app_context():
                    stop_elsewhere([message_id], "disconnect", 0.0)

    return generate()
