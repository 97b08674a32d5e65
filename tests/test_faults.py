"""Faults of a scaled deployment (two instances, 2 gevent workers each, PostgreSQL + Redis), each bounded
in time: Redis stopped while serving, PostgreSQL restarted while idle, a worker killed mid-stream.
Runs in the PostgreSQL pass."""
import os
import signal
import subprocess
import time

import pytest
import requests

from tests.conftest import IS_POSTGRES
from tests.support.cluster import Cluster
from tests.support.procs import restart_postgres, serving_worker, worker_pids
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

WORDS = " ".join(f"w{i}" for i in range(60))  # fault-slow: 3 s
FULL = "Echo: " + WORDS


@pytest.fixture(scope="module")
def cluster(database_url, app):
    with Cluster(database_url, redis_port=56381, RATELIMIT_DEFAULT="1000 per minute") as running:
        yield running


@pytest.fixture
def user(make_user, chat_model):
    """gina, with a key for the fake upstream; returns her username."""
    user_id = make_user("gina")
    chat_model("fault-slow", user_id=user_id)
    chat_model("fake-model-1")
    return "gina"


def redis_keys(cluster, pattern):
    """Keys of the cluster's Redis matching `pattern` ([] when it is down)."""
    found = subprocess.run(["redis-cli", "-p", str(cluster.redis.port), "--scan", "--pattern", pattern],
                           capture_output=True, text=True, timeout=10)
    return found.stdout.split()


def resume_elsewhere(cluster, headers_a, headers_b):
    """Start a slow reply on A, drop that connection after 2 words, resume it on B; (seen, rest)."""
    response = start_stream(cluster.a, headers_a, WORDS)
    seen = EventReader(response).until(2)
    response.close()
    resumed = requests.get(f"{cluster.b.url}/api/chat/stream/{seen[0][1]['message_id']}",
                           headers={**headers_b, "Last-Event-ID": str(seen[-1][0])}, stream=True, timeout=30)
    return seen, read_events(resumed)


def test_redis_stopped_while_serving_degrades_and_recovers(cluster, user):
    on_a, on_b = sign_in(cluster.a, user), sign_in(cluster.b, user)
    cluster.redis.stop()
    try:
        for hub, headers in [(cluster.a, on_a), (cluster.b, on_b)] * 4:
            assert requests.get(hub.url + "/api/auth/me", headers=headers, timeout=10).status_code == 200
        # Resuming elsewhere still works without Redis: B follows what A flushes to the database.
        seen, rest = resume_elsewhere(cluster, on_a, on_b)
        assert rest[-1][1]["type"] == "end" and text_of(seen) + text_of(rest) == FULL
        assert "Rate limit storage unreachable" in cluster.a.logs() + cluster.b.logs()
        assert "Redis unreachable" in cluster.a.logs() + cluster.b.logs()
    finally:
        cluster.redis.start()

    # Back: generations are shared live again (one event per word, through Redis) ...
    def live_again():
        seen, rest = resume_elsewhere(cluster, on_a, on_b)
        assert text_of(seen) + text_of(rest) == FULL
        return len([1 for _, p in seen + rest if p["type"] == "content"]) == len(FULL.split(" "))

    wait_until(live_again, timeout=30, interval=0.5)

    # ... and rate limits are counted in Redis again (Flask-Limiter re-checks its storage with back-off).
    def counted_in_redis():
        for hub, headers in ((cluster.a, on_a), (cluster.b, on_b)):
            assert requests.get(hub.url + "/api/auth/me", headers=headers, timeout=10).status_code == 200
        return redis_keys(cluster, "LIMITS*")

    wait_until(counted_in_redis, timeout=45, interval=0.5)


def test_postgres_restarted_while_idle_the_next_requests_succeed(cluster, user, database_url):
    on_a, on_b = sign_in(cluster.a, user), sign_in(cluster.b, user)
    for hub, headers in [(cluster.a, on_a), (cluster.b, on_b)] * 3:  # every worker has pooled connections
        assert requests.get(hub.url + "/api/auth/me", headers=headers, timeout=10).status_code == 200
    restart_postgres(database_url)
    statuses = [requests.get(hub.url + "/api/auth/me", headers=headers, timeout=10).status_code
                for hub, headers in [(cluster.a, on_a), (cluster.b, on_b)] * 6]
    assert statuses == [200] * 12
    answer = requests.post(cluster.b.url + "/api/chat", json={"message": "after restart", "model": "fake-model-1"},
                           headers=on_b, timeout=30)
    assert answer.status_code == 200 and answer.json()["response"] == "Echo: after restart"


def test_a_worker_killed_mid_stream_is_replaced_and_other_streams_go_on(cluster, user):
    hub = cluster.a
    headers, on_b = sign_in(hub, user), sign_in(cluster.b, user)
    streams = {}  # worker pid -> [(reader, events so far)]
    for _ in range(30):
        response = start_stream(hub, headers, WORDS)
        reader = EventReader(response)
        seen = reader.until(1)
        streams.setdefault(serving_worker(hub.process.pid, hub.port, response), []).append((reader, seen))
        if len([pid for pid in streams if pid]) == 2:
            break
    victim, survivor = sorted(pid for pid in streams if pid)
    os.kill(victim, signal.SIGKILL)

    for reader, seen in streams[victim]:
        try:
            rest = reader.rest()
        except requests.RequestException:
            rest = []
        assert not rest or rest[-1][1]["type"] not in ("end", "error")  # cut off, no final event
        messages = stored_messages(cluster.b, on_b, seen[0][1]["conversation_id"])
        assert (messages[0]["role"], messages[0]["content"], messages[0]["status"]) == ("user", WORDS, "complete")
    for reader, seen in streams[survivor]:
        rest = reader.rest()
        assert rest[-1][1]["type"] == "end" and rest[-1][1]["status"] == "complete"
        assert text_of(seen) + text_of(rest) == FULL

    replaced = wait_until(lambda: (pids := worker_pids(hub.process.pid)) and len(pids) == 2 and victim not in pids
                          and pids, timeout=20)
    assert survivor in replaced
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and requests.get(hub.url + "/api/health", timeout=5).status_code != 200:
        time.sleep(0.2)
    for _ in range(6):
        assert requests.get(hub.url + "/api/auth/me", headers=headers, timeout=10).status_code == 200
