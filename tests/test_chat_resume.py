"""Generations outlive their connection: disconnect and resume (`GET /api/chat/stream/{id}` with
`Last-Event-ID` or `?from=`), replay of finished replies, explicit stop, abort-on-disconnect, periodic
flushes, graceful shutdown, and isolation."""
import time

import pytest

from chathub.chat import generations
from tests import test_chat as shared
from tests.conftest import make_app
from tests.test_chat import collect, read_events, stored_messages, text_of, wait_until

# Fixtures shared with tests/test_chat.py.
chatter = shared.chatter
_no_generation_outlives_its_test = shared._no_generation_outlives_its_test

WORDS = "a b c d e f g h i j k l"
FULL = "Echo: " + WORDS


def start_slow(client, headers, message=WORDS, until_contents=1):
    """Start a slow generation and read until `until_contents` content events; (events, response)."""
    response = client.post("/api/chat/stream", json={"message": message, "model": "fault-slow"}, headers=headers,
                           buffered=False)
    events, reader = [], read_events(response)
    for event in reader:
        events.append(event)
        if sum(1 for _, payload in events if payload["type"] == "content") >= until_contents:
            break
    return events, response


def assistant_of(client, headers, conversation_id):
    return stored_messages(client, headers, conversation_id)[1]


def test_a_disconnected_client_does_not_stop_the_generation_and_the_reply_is_stored_complete(client, chatter):
    _, alice = chatter()
    events, response = start_slow(client, alice)
    response.close()  # the browser went away
    start = events[0][1]
    generation = generations.get(start["message_id"])
    assert generation is not None and not generation.finished
    final = wait_until(lambda: (m := assistant_of(client, alice, start["conversation_id"]))["status"] != "streaming"
                       and m)
    # Complete, with the usage the upstream sends after its last word: it was read to the end.
    assert final["status"] == "complete" and final["content"] == FULL and final["total_tokens"] == 18


@pytest.mark.parametrize("how", ["header", "query"])
def test_resuming_from_the_last_event_id_misses_nothing_and_doubles_nothing(client, chatter, how):
    _, alice = chatter()
    events, response = start_slow(client, alice, until_contents=3)
    response.close()
    last_id = events[-1][0]
    message_id = events[0][1]["message_id"]
    if how == "header":
        resumed = client.get(f"/api/chat/stream/{message_id}", headers={**alice, "Last-Event-ID": str(last_id)},
                             buffered=False)
    else:
        resumed = client.get(f"/api/chat/stream/{message_id}?from={last_id}", headers=alice, buffered=False)
    assert resumed.status_code == 200 and resumed.mimetype == "text/event-stream"
    assert resumed.headers["X-Accel-Buffering"] == "no"
    rest = collect(resumed)
    assert all(event_id > last_id for event_id, _ in rest)
    assert [payload["type"] for _, payload in rest][-1] == "end"
    assert text_of(events) + text_of(rest) == FULL


def test_a_finished_generation_replays_in_full_with_the_same_ids(client, chatter):
    _, alice = chatter()
    live = collect(client.post("/api/chat/stream", json={"message": "replay me", "model": "fake-model-1"},
                               headers=alice, buffered=False))
    message_id = live[0][1]["message_id"]
    wait_until(lambda: generations.get(message_id) is None)
    replay = collect(client.get(f"/api/chat/stream/{message_id}", headers=alice, buffered=False))
    assert [payload["type"] for _, payload in replay] == ["start", "content", "end"]
    assert text_of(replay) == text_of(live) == "Echo: replay me"
    assert replay[-1] == live[-1]  # same id, same usage and cost
    middle = live[2][0]  # after the second content event
    tail = collect(client.get(f"/api/chat/stream/{message_id}?from={middle}", headers=alice, buffered=False))
    assert text_of(live[:3]) + text_of(tail) == "Echo: replay me" and tail[-1] == live[-1]
    nothing = collect(client.get(f"/api/chat/stream/{message_id}?from={live[-1][0]}", headers=alice, buffered=False))
    assert nothing == []


def test_a_failed_generation_replays_its_error(client, chatter):
    _, alice = chatter()
    live = collect(client.post("/api/chat/stream", json={"message": "x", "model": "fault-500"}, headers=alice,
                               buffered=False))
    message_id = live[0][1]["message_id"]
    wait_until(lambda: generations.get(message_id) is None)
    replay = collect(client.get(f"/api/chat/stream/{message_id}", headers=alice, buffered=False))
    assert replay[-1] == live[-1] and replay[-1][1]["type"] == "error"


def test_stop_closes_the_upstream_at_once_and_stores_the_partial_reply_as_stopped(client, chatter, fake_upstream):
    _, alice = chatter()
    disconnects = fake_upstream.disconnects
    events, response = start_slow(client, alice, until_contents=2)
    message_id = events[0][1]["message_id"]
    started = time.monotonic()
    answer = client.post("/api/chat/stop", json={"message_id": message_id}, headers=alice)
    assert time.monotonic() - started < 1.0
    body = answer.get_json()
    assert answer.status_code == 200 and body["success"] is True and body["data"]["stopped"] == 1
    stopped = body["data"]["messages"][0]
    assert stopped["id"] == message_id and stopped["status"] == "stopped"
    assert stopped["content"] and FULL.startswith(stopped["content"]) and stopped["content"] != FULL
    rest = collect(response)  # the open stream ends with the stopped reply's end event
    assert rest[-1][1]["type"] == "end" and rest[-1][1]["status"] == "stopped"
    assert text_of(events) + text_of(rest) == stopped["content"]
    wait_until(lambda: fake_upstream.disconnects > disconnects)
    requests_before = len(fake_upstream.requests)
    assert assistant_of(client, alice, events[0][1]["conversation_id"])["content"] == stopped["content"]
    assert len(fake_upstream.requests) == requests_before


def test_stop_by_conversation_and_stopping_nothing(client, chatter):
    _, alice = chatter()
    events, response = start_slow(client, alice)
    conversation_id = events[0][1]["conversation_id"]
    body = client.post("/api/chat/stop", json={"conversation_id": conversation_id}, headers=alice).get_json()
    assert body["data"]["stopped"] == 1 and body["data"]["messages"][0]["status"] == "stopped"
    response.close()
    again = client.post("/api/chat/stop", json={"conversation_id": conversation_id}, headers=alice).get_json()
    assert again["success"] is True and again["data"]["stopped"] == 0
    message_id = events[0][1]["message_id"]
    done = client.post("/api/chat/stop", json={"message_id": message_id}, headers=alice).get_json()
    assert done["data"]["stopped"] == 0 and done["data"]["messages"][0]["status"] == "stopped"
    assert client.post("/api/chat/stop", json={}, headers=alice).status_code == 400


def test_abort_on_disconnect_makes_a_disconnect_a_stop(database_url, chatter, fake_upstream):
    _, alice = chatter()
    client = make_app(database_url, CHATHUB_ABORT_ON_DISCONNECT=True).test_client()
    disconnects = fake_upstream.disconnects
    events, response = start_slow(client, alice)
    response.close()
    stored = wait_until(lambda: (m := assistant_of(client, alice, events[0][1]["conversation_id"]))["status"]
                        != "streaming" and m)
    assert stored["status"] == "stopped" and stored["error_code"] == "CLIENT_DISCONNECTED"
    assert FULL.startswith(stored["content"]) and stored["content"] != FULL
    wait_until(lambda: fake_upstream.disconnects > disconnects)


def test_the_partial_reply_is_flushed_while_generating(database_url, chatter):
    _, alice = chatter()
    client = make_app(database_url, CHATHUB_FLUSH_INTERVAL=0).test_client()
    events, response = start_slow(client, alice, until_contents=3)
    conversation_id = events[0][1]["conversation_id"]
    partial = wait_until(lambda: (m := assistant_of(client, alice, conversation_id))["content"] and m)
    assert partial["status"] == "streaming" and FULL.startswith(partial["content"]) and partial["content"] != FULL
    collect(response)


def test_shutdown_stores_what_every_running_generation_has(client, chatter):
    _, alice = chatter()
    first, first_response = start_slow(client, alice)
    second, second_response = start_slow(client, alice, message="x y z w v u t")
    assert generations.stop_all_generations("shutdown", timeout=5) == 2
    for events in (first, second):
        stored = assistant_of(client, alice, events[0][1]["conversation_id"])
        assert stored["status"] == "failed" and stored["error_code"] == "SERVER_SHUTDOWN" and stored["content"]
    assert collect(first_response)[-1][1]["code"] == "SERVER_SHUTDOWN"
    second_response.close()
    assert generations.running() == []


def test_resume_follows_a_reply_another_worker_is_writing(app, database_url, chatter):
    """No generation in this process (another worker has it): the stored partial reply is followed."""
    import threading

    from chathub.conversations.models import Message
    from chathub.extensions import db

    _, alice = chatter()
    client = make_app(database_url, CHATHUB_FLUSH_INTERVAL=0.05).test_client()
    done = client.post("/api/chat", json={"message": "elsewhere", "model": "fake-model-1"}, headers=alice).get_json()
    message_id = done["message_id"]
    with app.app_context():
        message = db.session.get(Message, message_id)
        message.status, message.content = "streaming", "Echo: "
        db.session.commit()

    def other_worker_finishes():
        time.sleep(0.2)
        with app.app_context():
            row = db.session.get(Message, message_id)
            row.status, row.content = "complete", "Echo: elsewhere"
            db.session.commit()

    threading.Thread(target=other_worker_finishes).start()
    events = collect(client.get(f"/api/chat/stream/{message_id}", headers=alice, buffered=False))
    assert [payload["type"] for _, payload in events][0] == "start" and events[-1][1]["type"] == "end"
    assert text_of(events) == "Echo: elsewhere"


def test_only_the_owner_can_resume_or_stop(client, chatter):
    _, alice = chatter()
    events, response = start_slow(client, alice)
    message_id, conversation_id = events[0][1]["message_id"], events[0][1]["conversation_id"]
    _, bob = chatter("bob")
    assert client.get(f"/api/chat/stream/{message_id}", headers=bob).status_code == 404
    assert client.post("/api/chat/stop", json={"message_id": message_id}, headers=bob).status_code == 404
    assert client.post("/api/chat/stop", json={"conversation_id": conversation_id}, headers=bob).status_code == 404
    assert generations.get(message_id) is not None and generations.get(message_id).stop_reason is None
    assert client.get("/api/chat/stream/not-a-message", headers=alice).status_code == 404
    assert text_of(events) + text_of(collect(response)) == FULL


def test_deleting_a_conversation_stops_its_generation(client, chatter):
    _, alice = chatter()
    events, response = start_slow(client, alice)
    message_id = events[0][1]["message_id"]
    assert client.delete(f"/api/conversations/{events[0][1]['conversation_id']}", headers=alice).status_code == 200
    wait_until(lambda: generations.get(message_id) is None)
    response.close()
