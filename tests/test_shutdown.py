"""Graceful shutdown of a served instance (gunicorn.conf.py hooks): on SIGTERM, running replies get the
grace period to finish; what is still running then is stopped and its partial reply stored (failed,
SERVER_SHUTDOWN), never left `streaming`, and its client gets an error event saying so."""
import signal
import time

from chathub.conversations.models import Message
from chathub.extensions import db
from tests.support.served import ServedChatHub
from tests.support.sse_client import EventReader, sign_in, start_stream, text_of

LONG = " ".join(f"w{i}" for i in range(400))  # fault-slow at 0.05 s a word: 20 s, longer than the grace
SHORT = "one two three four five six"


def stored(app, message_id):
    """The assistant message as stored (a fresh read)."""
    with app.app_context():
        message = db.session.get(Message, message_id)
        return message.status, message.content, message.error_code


def test_sigterm_lets_short_replies_finish_and_stores_long_ones_as_interrupted(app, database_url, make_user,
                                                                                chat_model):
    user_id = make_user("frank")
    chat_model("fault-slow", user_id=user_id)
    with ServedChatHub(database_url, GUNICORN_GRACEFUL_TIMEOUT=4) as hub:
        headers = sign_in(hub, "frank")
        long_reader = EventReader(start_stream(hub, headers, LONG))
        long_seen = long_reader.until(3)
        short_reader = EventReader(start_stream(hub, headers, SHORT))
        short_seen = short_reader.until(1)
        hub.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        long_rest, short_rest = long_reader.rest(), short_reader.rest()
        assert time.monotonic() - started < 4  # stopped within the grace period, not killed after it
        assert hub.process.wait(timeout=15) == 0

    assert short_rest[-1][1]["type"] == "end" and short_rest[-1][1]["status"] == "complete"
    assert stored(app, short_seen[0][1]["message_id"]) == ("complete", "Echo: " + SHORT, None)

    final = long_rest[-1][1]
    assert final["type"] == "error" and final["code"] == "SERVER_SHUTDOWN"
    status, content, code = stored(app, long_seen[0][1]["message_id"])
    assert (status, code) == ("failed", "SERVER_SHUTDOWN")
    assert content == text_of(long_seen + long_rest) and len(content) > len("Echo: w0 w1")
    assert ("Echo: " + LONG).startswith(content) and content != "Echo: " + LONG
