"""`POST /api/chat/stream`: SSE event shapes, incremental delivery, and each upstream fault as the
client sees it and as it is stored."""
import time

import pytest

from tests import test_chat as shared
from tests.conftest import make_app
from tests.test_chat import collect, read_events, stored_messages, text_of

# Fixtures shared with tests/test_chat.py.
chatter = shared.chatter
_no_generation_outlives_its_test = shared._no_generation_outlives_its_test


def stream(client, headers, **body):
    body.setdefault("model", "fake-model-1")
    return client.post("/api/chat/stream", json=body, headers=headers, buffered=False)


def test_events_are_start_content_end_with_ids_and_no_buffering_headers(client, chatter):
    _, alice = chatter()
    response = stream(client, alice, message="hello streaming world")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["X-Accel-Buffering"] == "no"
    events = collect(response)
    kinds = [payload["type"] for _, payload in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and set(kinds[1:-1]) == {"content"} and len(kinds) == 6
    start, end = events[0][1], events[-1][1]
    assert start["conversation_id"] and start["message_id"] == end["message_id"]
    assert text_of(events) == "Echo: hello streaming world"
    ids = [event_id for event_id, _ in events]
    assert ids == sorted(set(ids)) and ids[0] == 0
    assert {"tokens_used", "prompt_tokens", "completion_tokens", "cost"} <= set(end)
    assert end["tokens_used"] == end["prompt_tokens"] + end["completion_tokens"] and end["status"] == "complete"
    stored = stored_messages(client, alice, start["conversation_id"])
    assert [(m["role"], m["content"], m["status"]) for m in stored] == [
        ("user", "hello streaming world", "complete"), ("assistant", "Echo: hello streaming world", "complete")]
    assert stored[1]["id"] == end["message_id"] and stored[1]["total_tokens"] == end["tokens_used"]


def test_003_messages_body_streams_too_and_continues_a_conversation(client, chatter, fake_upstream):
    _, alice = chatter()
    first = collect(stream(client, alice, messages=[{"role": "user", "content": "first"}]))
    conversation_id = first[0][1]["conversation_id"]
    second = collect(stream(client, alice, messages=[{"role": "user", "content": "second"}],
                            conversation_id=conversation_id))
    assert second[0][1]["conversation_id"] == conversation_id and text_of(second) == "Echo: second"
    assert [m["content"] for m in fake_upstream.chat_requests()[-1]["messages"]] == ["first", "Echo: first", "second"]


def test_tokens_reach_the_client_before_the_slow_upstream_has_finished(client, chatter, fake_upstream):
    _, alice = chatter()
    words = "a b c d e f g h"
    started = time.monotonic()
    arrivals = [(time.monotonic() - started, payload) for _, payload in read_events(
        stream(client, alice, message=words, model="fault-slow"))]
    contents = [at for at, payload in arrivals if payload["type"] == "content"]
    end = arrivals[-1][0]
    # The upstream sleeps slow_delay before each of its 9 words: the first must arrive long before the last.
    assert len(contents) == 9 and end >= 9 * fake_upstream.slow_delay
    assert contents[0] < end - 5 * fake_upstream.slow_delay
    assert all(later > earlier for earlier, later in zip(contents, contents[1:], strict=False))


def test_upstream_500_before_the_first_token_is_an_error_event(client, chatter):
    _, alice = chatter()
    events = collect(stream(client, alice, message="hi", model="fault-500"))
    assert [payload["type"] for _, payload in events] == ["start", "error"]
    error = events[-1][1]
    assert error["code"] == "AI_API_ERROR" and "crashed" in error["error"] and error["message_id"]
    stored = stored_messages(client, alice, events[0][1]["conversation_id"])
    assert [(m["content"], m["status"]) for m in stored] == [("hi", "complete"), ("", "failed")]


@pytest.mark.parametrize("model, partial, words", [
    ("fault-reset", "Echo: a b ", "The connection to the provider broke"),
    ("fault-error-object", "Echo: a ", "overloaded mid-stream"),
    ("fault-malformed", "Echo: a ", "malformed"),
])
def test_a_mid_stream_fault_sends_what_came_then_an_error_and_stores_the_partial_as_failed(client, chatter, model,
                                                                                          partial, words):
    _, alice = chatter()
    events = collect(stream(client, alice, message="a b c d e", model=model))
    if model == "fault-reset":
        # A reset may discard words the kernel had received but ChatHub had not read yet.
        partial = text_of(events)
        assert "Echo: a b ".startswith(partial)
    assert text_of(events) == partial
    error = events[-1][1]
    assert error["type"] == "error" and error["code"] == "AI_API_ERROR" and words in error["error"]
    assert events[-1][0] == len(partial) + 1
    stored = stored_messages(client, alice, events[0][1]["conversation_id"])
    assert (stored[1]["content"], stored[1]["status"], stored[1]["error_code"]) == (partial, "failed", "AI_API_ERROR")
    assert stored[0]["content"] == "a b c d e"
    assert (stored[1]["completion_tokens"] > 0) == bool(partial)  # what was generated is counted (estimated)


def test_an_upstream_that_hangs_is_an_upstream_timeout_error_event(database_url, chatter):
    _, alice = chatter()
    client = make_app(database_url, UPSTREAM_READ_TIMEOUT=0.3).test_client()
    events = collect(stream(client, alice, message="hi", model="fault-hang"))
    assert events[-1][1]["type"] == "error" and events[-1][1]["code"] == "UPSTREAM_TIMEOUT"
    stored = stored_messages(client, alice, events[0][1]["conversation_id"])
    assert [m["status"] for m in stored] == ["complete", "failed"] and stored[1]["error_code"] == "UPSTREAM_TIMEOUT"


def test_keepalive_comments_and_split_lines_from_the_upstream_do_not_disturb_the_reply(client, chatter):
    _, alice = chatter()
    events = collect(stream(client, alice, message="split lines here", model="fault-keepalive"))
    assert text_of(events) == "Echo: split lines here" and events[-1][1]["type"] == "end"


def test_a_generation_is_bounded_in_size(database_url, chatter, fake_upstream):
    _, alice = chatter()
    client = make_app(database_url, CHATHUB_MAX_GENERATION_CHARS=100).test_client()
    disconnects = fake_upstream.disconnects
    # A reply far larger than the socket buffers, so the upstream is still writing when ChatHub cuts it.
    words, fake_upstream.long_words = fake_upstream.long_words, 200_000
    try:
        events = collect(stream(client, alice, message="go", model="fault-long"))
    finally:
        fake_upstream.long_words = words
    end = events[-1][1]
    assert end["type"] == "end" and end["status"] == "stopped" and end["finish_reason"] == "length"
    assert 100 <= len(text_of(events)) < 120
    stored = stored_messages(client, alice, events[0][1]["conversation_id"])[1]
    assert stored["status"] == "stopped" and stored["error_code"] == "MAX_LENGTH"
    assert stored["content"] == text_of(events)
    deadline = time.monotonic() + 5
    while fake_upstream.disconnects == disconnects and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake_upstream.disconnects > disconnects  # the upstream was cut off, not read to the end


def test_a_generation_is_bounded_in_time(database_url, chatter, fake_upstream):
    _, alice = chatter()
    client = make_app(database_url, CHATHUB_MAX_GENERATION_SECONDS=0.12).test_client()
    disconnects = fake_upstream.disconnects
    events = collect(stream(client, alice, message="a b c d e f g h i j", model="fault-slow"))
    assert events[-1][1]["status"] == "stopped" and 0 < len(text_of(events)) < len("Echo: a b c d e f g h i j")
    stored = stored_messages(client, alice, events[0][1]["conversation_id"])[1]
    assert stored["error_code"] == "MAX_DURATION"
    deadline = time.monotonic() + 5
    while fake_upstream.disconnects == disconnects and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake_upstream.disconnects > disconnects


def test_anonymous_streams_are_refused(client):
    assert client.post("/api/chat/stream", json={"message": "hi", "model": "fake-model-1"}).status_code == 401


def test_no_database_connection_is_held_while_tokens_stream(app, client, chatter):
    from chathub.extensions import db

    _, alice = chatter()
    with app.app_context():
        pool = db.engine.pool
    response = stream(client, alice, message="a b c d e f g h", model="fault-slow")
    reader = read_events(response)
    seen = [next(reader), next(reader)]  # start and the first token: the upstream is mid-reply
    assert seen[1][1]["type"] == "content"
    assert pool.checkedout() == 0
    assert text_of(seen + list(reader)) == "Echo: a b c d e f g h"
