"""Scale-out bench: 1 gunicorn worker on SQLite vs 2 instances x 2 gevent workers on PostgreSQL + Redis,
against the fake upstream (tests/fake_upstream.py, in its own gevent process), all on loopback.

For each deployment it measures non-stream requests per second (`GET /api/auth/me`: auth + database;
`POST /api/chat`: a whole joined chat) with `--concurrency` clients for `--seconds` each, and
`--streams` concurrent SSE chats (fault-slow: `--words` words, `--delay` s apart): how many ended
complete, time to first token (p50/p95) and wall time. Requests alternate between the instances.
The load generator is one gevent process, so on a small machine it competes with the servers for
CPU: compare the two rows, not the absolute numbers with other machines.

    .venv/bin/python bench/scaled_bench.py [--streams 500] [--seconds 10] [--concurrency 50]

Needs PostgreSQL 15 and redis-server (tests/support/install_test_deps.sh installs them); uses ports
CHATHUB_BENCH_PG_PORT (55499) and CHATHUB_BENCH_REDIS_PORT (56399).
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
from gevent.pool import Pool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.cluster import Cluster  # noqa: E402
from tests.support.served import ServedChatHub, free_port  # noqa: E402
from tests.support.sse_client import EventReader  # noqa: E402

PASSWORD = "bench-password-1"


def prepare_database(database_url, upstream_url):
    """Fresh tables, a user with a key for the fake upstream and its models; the user's name."""
    from chathub import create_app
    from chathub.catalog.models import AiModel, Provider
    from chathub.extensions import db
    from chathub.keys.models import ApiKey
    from chathub.security import encrypt_secret, mask_secret
    from chathub.users import service as users

    app = create_app({"CHATHUB_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        db.drop_all()
        db.create_all()
        user = users.create_user("bench", "bench@example.com", PASSWORD)
        db.session.add(Provider(provider_key="fake", display_name="Fake", default_base_url=upstream_url,
                                is_active=True))
        db.session.flush()
        for name in ("fake-model-1", "fault-slow"):
            db.session.add(AiModel(model_name=name, display_name=name, model_provider="fake",
                                   input_price_per_1k=Decimal("0.5"), output_price_per_1k=Decimal("1.5")))
        db.session.add(ApiKey(user_id=user.id, model_provider="fake", scope="personal",
                              api_key_encrypted=encrypt_secret("sk-bench-0000"), key_hint=mask_secret("sk-bench-0000")))
        db.session.commit()
        db.engine.dispose()
    return "bench"


def sign_in(hub):
    """Bearer headers for the bench user."""
    response = requests.post(hub.url + "/api/auth/login", json={"username": "bench", "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def requests_per_second(hubs, headers, method, path, body, seconds, concurrency):
    """(successful requests per second, failures) over `seconds` with `concurrency` clients."""
    counts = {"ok": 0, "failed": 0}
    deadline = time.monotonic() + seconds

    def client(index):
        session = requests.Session()
        hub = hubs[index % len(hubs)]
        while time.monotonic() < deadline:
            try:
                response = session.request(method, hub.url + path, json=body, headers=headers[hub.url], timeout=30)
                counts["ok" if response.status_code == 200 else "failed"] += 1
            except requests.RequestException:
                counts["failed"] += 1

    started = time.monotonic()
    gevent.joinall([gevent.spawn(client, i) for i in range(concurrency)])
    return counts["ok"] / (time.monotonic() - started), counts["failed"]


def concurrent_streams(hubs, headers, streams, words):
    """(complete streams, time-to-first-token p50 and p95 in ms, wall seconds) for `streams` at once."""
    message = " ".join(f"w{i}" for i in range(words))
    results = []

    def one(index):
        hub = hubs[index % len(hubs)]
        sent = time.monotonic()
        try:
            response = requests.post(hub.url + "/api/chat/stream", json={"message": message, "model": "fault-slow"},
                                     headers=headers[hub.url], stream=True, timeout=300)
            reader = EventReader(response)
            first = reader.until(1)
            ttft = time.monotonic() - sent
            events = first + reader.rest()
            results.append((events[-1][1].get("status") == "complete", ttft))
        except Exception:  # noqa: BLE001 - counted as incomplete
            results.append((False, None))

    started = time.monotonic()
    pool = Pool(streams)
    for index in range(streams):
        pool.spawn(one, index)
    pool.join()
    wall = time.monotonic() - started
    ttfts = sorted(t for ok, t in results if t is not None)
    p95 = ttfts[int(len(ttfts) * 0.95) - 1] if ttfts else float("nan")
    return sum(1 for ok, _ in results if ok), statistics.median(ttfts) * 1000 if ttfts else float("nan"), \
        p95 * 1000, wall


def measure(name, hubs, args):
    """One row of results for a deployment."""
    headers = {hub.url: sign_in(hub) for hub in hubs}
    me, me_failed = requests_per_second(hubs, headers, "GET", "/api/auth/me", None, args.seconds, args.concurrency)
    chat, chat_failed = requests_per_second(hubs, headers, "POST", "/api/chat",
                                            {"message": "bench", "model": "fake-model-1"}, args.seconds,
                                            args.concurrency)
    complete, p50, p95, wall = concurrent_streams(hubs, headers, args.streams, args.words)
    return (f"{name:<34} {me:>8.0f} {me_failed:>5} {chat:>9.0f} {chat_failed:>5}   "
            f"{complete:>4}/{args.streams:<4} {p50:>7.0f} {p95:>7.0f} {wall:>6.1f}")


def main():
    """Run both deployments and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--words", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.25, help="seconds between words of a stream")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    pg_port = os.environ.get("CHATHUB_BENCH_PG_PORT", "55499")
    redis_port = int(os.environ.get("CHATHUB_BENCH_REDIS_PORT", "56399"))
    quiet = {"RATELIMIT_DEFAULT": "10000000 per minute", "RATELIMIT_LOGIN": "100000 per minute"}

    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        upstream = subprocess.Popen([sys.executable, "-m", "tests.fake_upstream", "--gevent", "--port", str(port),
                                     "--slow-delay", str(args.delay)], cwd=ROOT, stdout=subprocess.DEVNULL)
        stack.callback(upstream.terminate)
        upstream_url = f"http://127.0.0.1:{port}/v1"
        for _ in range(100):
            try:
                requests.get(upstream_url + "/models", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        rows = []

        sqlite_url = f"sqlite:///{tmp}/bench.db"
        prepare_database(sqlite_url, upstream_url)
        with ServedChatHub(sqlite_url, workers=1, **quiet) as hub:
            rows.append(measure("1 worker, SQLite", [hub], args))

        pg_url = subprocess.run(["bash", str(ROOT / "tests/support/postgres.sh"), "start", pg_port], check=True,
                                capture_output=True, text=True).stdout.strip()
        stack.callback(subprocess.run, ["bash", str(ROOT / "tests/support/postgres.sh"), "stop", pg_port])
        prepare_database(pg_url, upstream_url)
        with Cluster(pg_url, redis_port=redis_port, workers=2, **quiet) as cluster:
            rows.append(measure("2 instances x 2 workers, PG + Redis", [cluster.a, cluster.b], args))

    print(f"{os.cpu_count()} CPUs; {args.concurrency} clients x {args.seconds:.0f} s for requests/s; "
          f"{args.streams} streams of {args.words} words {args.delay} s apart")
    print(f"{'deployment':<34} {'me/s':>8} {'fail':>5} {'chat/s':>9} {'fail':>5}   {'streams ok':>9} "
          f"{'ttft50':>7} {'ttft95':>7} {'wall':>6}")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
