"""The process-level registry of running generations (message_id -> Generation).

A generation reads the upstream in its own thread (a greenlet under gunicorn's gevent worker) and
appends its events to an in-memory buffer; HTTP responses only *read* that buffer from an event id,
so a client that goes away does not stop it, and a client that comes back resumes where it was.

Event ids are increasing integers: 0 for `start`, after each `content` event the reply's length in
characters so far, and that length + 1 for the final `end`/`error` event. So the same ids can be
rebuilt from the stored message once the generation is over (see `chathub.chat.service.replay`).

Interface (kept small so a Redis-backed registry can replace it for several instances):
`start(generation, target)`, `get(message_id)`, `subscribe(generation, after_id)`,
`stop(message_id, reason)`, `running_in_conversation(conversation_id)`, `stop_all_generations(reason)`.
"""
import bisect
import logging
import socket
import struct
import threading
import time

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0

_registry = {}
_registry_lock = threading.Lock()


class Generation:
    """One assistant reply being generated: its event buffer, stop flag and upstream response."""

    def __init__(self, message_id, conversation_id, user_id, model):
        self.message_id = message_id
        self.conversation_id = conversation_id
        self.user_id = user_id
        self.model = model
        self.started_at = time.monotonic()
        self.stop_reason = None
        self.outcome = None
        self.thread = None
        self._ids = []
        self._events = []
        self._finished = False
        self._response = None
        self._condition = threading.Condition()

    @property
    def finished(self):
        """True once the final event is buffered."""
        return self._finished

    def publish(self, event_id, payload):
        """Append an event (ids must increase) and wake every reader."""
        with self._condition:
            self._ids.append(event_id)
            self._events.append((event_id, payload))
            self._condition.notify_all()

    def finish(self, outcome):
        """Mark the generation over; `outcome` is what `wait` returns."""
        with self._condition:
            self.outcome = outcome
            self._finished = True
            self._condition.notify_all()

    def events_after(self, after_id, timeout):
        """(events with id > after_id, finished), waiting up to `timeout` seconds for something new."""
        with self._condition:
            start = bisect.bisect_right(self._ids, after_id)
            if start == len(self._events) and not self._finished:
                self._condition.wait(timeout)
                start = bisect.bisect_right(self._ids, after_id)
            return self._events[start:], self._finished

    def wait(self, timeout=None):
        """Block until the generation is over; its outcome (None on timeout)."""
        with self._condition:
            self._condition.wait_for(lambda: self._finished, timeout)
            return self.outcome

    def attach_response(self, response):
        """Remember the open upstream response so `request_stop` can close it; closes it at once
        when a stop was already requested."""
        with self._condition:
            self._response = response
            stopping = self.stop_reason is not None
        if stopping:
            abort_response(response)

    def request_stop(self, reason):
        """Ask the generation to end now (the first reason wins) and close its upstream connection."""
        with self._condition:
            if self.stop_reason is None and not self._finished:
                self.stop_reason = reason
            response = self._response
        if response is not None:
            abort_response(response)


def abort_response(response):
    """Close an upstream response at once, even while another thread is blocked reading it.

    `close()` alone does not wake a thread blocked in `recv`; `shutdown` does, and a zero linger
    makes the close a reset, so the upstream stops generating (and billing) immediately."""
    sock = None
    try:
        connection = getattr(response.raw, "_connection", None)
        sock = getattr(connection, "sock", None)
        if sock is None:
            fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
            sock = getattr(getattr(fp, "raw", None), "_sock", None)
    except Exception:  # noqa: BLE001 - internals differ between versions; close() still runs
        sock = None
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        response.close()
    except Exception:  # noqa: BLE001 - already closed or broken: nothing more to do
        pass


def start(generation, target):
    """Register `generation` and run `target(generation)` in its own (daemon) thread."""
    with _registry_lock:
        _registry[generation.message_id] = generation

    def run():
        try:
            target(generation)
        except Exception:  # noqa: BLE001 - a generation must never die silently with readers waiting
            log.exception("generation %s crashed", generation.message_id)
        finally:
            if not generation.finished:
                generation.finish({"status": "failed", "code": "INTERNAL_ERROR", "http_status": 500,
                                   "error": "The generation failed unexpectedly"})
            with _registry_lock:
                if _registry.get(generation.message_id) is generation:
                    del _registry[generation.message_id]

    generation.thread = threading.Thread(target=run, name=f"generation-{generation.message_id}", daemon=True)
    generation.thread.start()
    return generation


def get(message_id):
    """The running generation of this message, or None (finished, unknown, or on another instance)."""
    with _registry_lock:
        return _registry.get(message_id)


def running():
    """Every running (not yet finished) generation of this process."""
    with _registry_lock:
        return [g for g in _registry.values() if not g.finished]


def running_in_conversation(conversation_id):
    """The running generations of one conversation."""
    return [g for g in running() if g.conversation_id == conversation_id]


def subscribe(generation, after_id=-1, keepalive=KEEPALIVE_SECONDS):
    """Yield `(event_id, payload)` for every event after `after_id`, live until the generation ends;
    yields None when nothing happened for `keepalive` seconds (so the caller can send a comment)."""
    last = after_id
    while True:
        events, finished = generation.events_after(last, keepalive)
        for event_id, payload in events:
            last = event_id
            yield event_id, payload
        if finished:
            return
        if not events:
            yield None


def stop(message_id, reason="user"):
    """Ask a running generation to stop; the generation (or None when none is running)."""
    generation = get(message_id)
    if generation is None or generation.finished:
        return None
    generation.request_stop(reason)
    return generation


def stop_all_generations(reason="shutdown", timeout=10.0):
    """Stop every running generation and wait (up to `timeout` in all) until each has stored what it
    has. For a graceful shutdown (gunicorn's worker_exit); independent of signals and atexit."""
    generations = running()
    for generation in generations:
        generation.request_stop(reason)
    deadline = time.monotonic() + timeout
    for generation in generations:
        generation.wait(max(0.0, deadline - time.monotonic()))
    return len(generations)
