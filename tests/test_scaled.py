"""Several instances behave as one: two gunicorn instances (2 gevent workers each) on one PostgreSQL
database and one Redis: tokens, disabled accounts, rate limits, runtime config, and chats (history,
resuming and stopping a generation through the instance that does not run it). Runs in the PostgreSQL
pass (the scaled deployment's database)."""
import os
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.conftest import IS_POSTGRES, PASSWORD
from tests.support.cluster import ROOT, Cluster
from tests.support.served import ServedChatHub
from tests.support.sse_client import (
    EventReader,
    read_events,
    sign_in,
    start_stream,
    stored_messages,
    text_of,
    wait_until,
)

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="the scaled deployment runs on PostgreSQL")


@pytest.fixture(scope="module")
def cluster(database_url, app):
    with Cluster(database_url, redis_port=56380, RATELIMIT_DEFAULT="40 per minute") as running:
        yield running


def test_logout_on_a_is_refused_on_b(cluster, make_user):
    make_user("alice")
    headers = sign_in(cluster.a, "alice")
    assert requests.get(cluster.b.url + "/api/auth/me", headers=headers, timeout=10).status_code == 200
    assert requests.post(cluster.a.url + "/api/auth/logout", headers=headers, timeout=10).status_code == 200
    assert requests.get(cluster.b.url + "/api/auth/me", headers=headers, timeout=10).status_code == 401


def test_disabled_on_a_is_refused_on_b(cluster, make_user):
    bob = make_user("bob")
    make_user("root", role="admin")
    admin = sign_in(cluster.a, "root")
    bob_headers = sign_in(cluster.b, "bob")
    response = requests.patch(cluster.a.url + f"/api/admin/users/{bob}/status", json={"action": "disable"},
                              headers=admin, timeout=10)
    assert response.status_code == 200
    refused = requests.get(cluster.b.url + "/api/auth/me", headers=bob_headers, timeout=10)
    assert refused.status_code == 403 and refused.json()["code"] == "ACCOUNT_DISABLED"


def test_rate_limit_is_counted_across_instances_and_workers(cluster, make_user):
    cluster.redis.flush()
    make_user("carol")
    headers = sign_in(cluster.a, "carol")
    statuses = []
    for i in range(44):
        hub = cluster.a if i % 2 else cluster.b
        statuses.append(requests.get(hub.url + "/api/auth/me", headers=headers, timeout=10).status_code)
    # 40 per minute for carol in total, whichever instance or worker answered
    assert statuses.count(200) == 40 and statuses.count(429) == 4


def test_runtime_config_change_on_a_applies_on_b(cluster, make_user):
    make_user("root2", role="admin")
    admin = sign_in(cluster.a, "root2")
    changed = requests.put(cluster.a.url + "/api/config", json={"allow_registration": False}, headers=admin, timeout=10)
    assert changed.status_code == 200, changed.text
    body = {"username": "dave", "email": "dave@example.com", "password": PASSWORD}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        refused = requests.post(cluster.b.url + "/api/auth/register", json=body, timeout=10)
        if refused.status_code == 403:
            break
        time.sleep(0.5)
    assert refused.status_code == 403


WORDS = " ".join(f"w{i}" for i in range(40))  # fault-slow: 40 words, 0.05 s apart
FULL = "Echo: " + WORDS


@pytest.fixture
def chatter(make_user, chat_model):
    """A user with a key for the fake upstream (fault-slow and fake-model-1 in the catalog)."""

    def factory(username="erin"):
        user_id = make_user(username)
        chat_model("fault-slow", user_id=user_id)
        chat_model("fake-model-1")
        return user_id

    return factory


def test_a_chat_streamed_on_a_is_in_the_history_on_b(cluster, chatter):
    chatter()
    on_a, on_b = sign_in(cluster.a, "erin"), sign_in(cluster.b, "erin")
    events = read_events(start_stream(cluster.a, on_a, "hello from a", model="fake-model-1"))
    assert events[-1][1]["type"] == "end" and text_of(events) == "Echo: hello from a"
    conversation_id = events[0][1]["conversation_id"]
    listed = requests.get(cluster.b.url + "/api/conversations", headers=on_b, timeout=10).json()
    assert conversation_id in str(listed)
    messages = stored_messages(cluster.b, on_b, conversation_id)
    assert [(m["role"], m["content"], m["status"]) for m in messages] == [
        ("user", "hello from a", "complete"), ("assistant", "Echo: hello from a", "complete")]


def test_a_generation_started_on_a_resumes_through_b_live_with_nothing_missing_or_doubled(cluster, chatter):
    chatter()
    on_a, on_b = sign_in(cluster.a, "erin"), sign_in(cluster.b, "erin")
    response = start_stream(cluster.a, on_a, WORDS)
    seen = EventReader(response).until(3)
    response.close()  # the client lost its connection to A; the load balancer now sends it to B
    last_id, message_id = seen[-1][0], seen[0][1]["message_id"]
    resumed = requests.get(f"{cluster.b.url}/api/chat/stream/{message_id}",
                           headers={**on_b, "Last-Event-ID": str(last_id)}, stream=True, timeout=30)
    assert resumed.status_code == 200 and resumed.headers["X-Accel-Buffering"] == "no"
    rest = read_events(resumed)
    ids = [event_id for event_id, _ in seen + rest]
    assert ids == sorted(set(ids)) and all(event_id > last_id for event_id, _ in rest)
    assert rest[-1][1]["type"] == "end" and rest[-1][1]["status"] == "complete"
    assert text_of(seen) + text_of(rest) == FULL
    # Live through Redis: one event per upstream word, not the database's one-second batches.
    assert len([1 for _, p in seen + rest if p["type"] == "content"]) == len(FULL.split(" "))
    assert stored_messages(cluster.b, on_b, seen[0][1]["conversation_id"])[1]["content"] == FULL


@pytest.mark.parametrize("by", ["message_id", "conversation_id"])
def test_a_generation_started_on_a_is_stopped_through_b(cluster, chatter, fake_upstream, by):
    chatter()
    on_a, on_b = sign_in(cluster.a, "erin"), sign_in(cluster.b, "erin")
    disconnects = fake_upstream.disconnects
    reader = EventReader(start_stream(cluster.a, on_a, WORDS))
    seen = reader.until(2)
    start = seen[0][1]
    started = time.monotonic()
    answer = requests.post(cluster.b.url + "/api/chat/stop", json={by: start[by]}, headers=on_b, timeout=10)
    assert time.monotonic() - started < 2.0
    body = answer.json()
    assert answer.status_code == 200 and body["data"]["stopped"] == 1, body
    stopped = body["data"]["messages"][0]
    assert stopped["id"] == start["message_id"] and stopped["status"] == "stopped"
    assert stopped["content"] and FULL.startswith(stopped["content"]) and stopped["content"] != FULL
    rest = reader.rest()  # A's open stream ends with the stopped reply's end event
    assert rest[-1][1]["type"] == "end" and rest[-1][1]["status"] == "stopped"
    assert text_of(seen) + text_of(rest) == stopped["content"]
    wait_until(lambda: fake_upstream.disconnects > disconnects)  # the upstream request was closed
    assert stored_messages(cluster.a, on_a, start["conversation_id"])[1]["content"] == stopped["content"]


STREAMS = 500
BULK_WORDS = " ".join(f"b{i}" for i in range(40))  # 0.4 s a word: 16 s per stream


def raise_open_files(needed):
    """Raise RLIMIT_NOFILE (soft, and hard when allowed) to `needed` for this process and its children;
    under CI a failure fails the test, elsewhere it skips."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, max(hard, needed)))
    except (ValueError, OSError) as exc:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot raise the open-file limit to {needed} (soft {soft}, hard {hard}): {exc}")
        pytest.skip(f"cannot raise the open-file limit to {needed} (hard limit {hard})")


@pytest.fixture
def bulk_upstream(app):
    """A gevent fake upstream in its own process (thousands of concurrent streams); its base URL."""
    from tests.support.served import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.fake_upstream", "--gevent", "--port", str(port),
                                "--slow-delay", "0.4"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).ok
                   if process.poll() is None else pytest.fail("the fake upstream did not start"), timeout=15)
    except requests.RequestException:
        pass
    yield f"http://127.0.0.1:{port}/v1"
    process.terminate()
    process.wait(timeout=10)


def test_500_concurrent_streams_on_one_instance_with_a_pool_of_5_per_worker(app, database_url, make_user, chat_model,
                                                                            bulk_upstream):
    from chathub.catalog.models import Provider
    from chathub.conversations.models import Message
    from chathub.extensions import db

    raise_open_files(8192)
    user_id = make_user("hana")
    chat_model("fault-slow", user_id=user_id, provider_key="bulk")
    with app.app_context():
        db.session.execute(db.update(Provider).where(Provider.provider_key == "bulk")
                           .values(default_base_url=bulk_upstream))
        db.session.commit()
    results = [None] * STREAMS

    def one_stream(index, hub, headers):
        try:
            response = requests.post(hub.url + "/api/chat/stream", json={"message": BULK_WORDS, "model": "fault-slow"},
                                     headers=headers, stream=True, timeout=120)
            reader = EventReader(response)
            first = reader.until(1)
            first_at = time.monotonic()
            rest = reader.rest()
            results[index] = (response.status_code, first_at, time.monotonic(), text_of(first + rest),
                              (first + rest)[-1][1])
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            results[index] = exc

    with ServedChatHub(database_url, workers=2, DB_POOL_SIZE=5, DB_MAX_OVERFLOW=0, DB_POOL_TIMEOUT=30) as hub:
        headers = sign_in(hub, "hana")
        threading.stack_size(512 * 1024)
        threads = [threading.Thread(target=one_stream, args=(i, hub, headers)) for i in range(STREAMS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        logs = hub.logs()

    failures = [r for r in results if not isinstance(r, tuple) or r[0] != 200 or r[4]["type"] != "end"]
    assert not failures, failures[:3]
    assert all(text == "Echo: " + BULK_WORDS and final["status"] == "complete" for _, _, _, text, final in results)
    # All 500 were streaming at the same moment: the last first token came before the first end.
    assert max(r[1] for r in results) < min(r[2] for r in results)
    assert "QueuePool limit" not in logs and "TimeoutError" not in logs
    with app.app_context():
        stored = db.session.execute(db.select(Message.status, Message.content).where(Message.role == "assistant")).all()
    assert len(stored) == STREAMS and set(stored) == {("complete", "Echo: " + BULK_WORDS)}
