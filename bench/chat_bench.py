"""The chat relay benchmark (issue 4, item 9): ChatHub against the bare fake upstream, in the same run, so
the numbers are ratios rather than absolutes of this machine.

It starts the fake upstream (tests/fake_upstream.py, gevent mode) as its own process, migrates a fresh
SQLite file with `flask db upgrade`, seeds a user, a provider at the fake upstream, its models and the
user's key, and serves ChatHub as ONE gunicorn gevent worker (gunicorn.conf.py). The load generator is
this process: gevent greenlets on raw sockets. Then it measures
  (a) time to first token through ChatHub minus direct to the upstream, p50/p95 (sequential,
      authenticated chats that store both messages);
  (b) concurrent open streams one worker holds (`--streams`, each `--duration` seconds): errors, wall
      time against the bare upstream's for the same streams, time to first token under load, and a
      database check that every chat stored both messages;
  (c) relayed chunks per second (fault-long) and the worker's CPU time per relayed chunk;
  (d) peak memory per open stream: the worker's VmRSS during (b) minus before it, over N.
It asserts nothing except exiting 1 when a stream failed or a chat did not store both messages.

    .venv/bin/python bench/chat_bench.py [--streams 500,1000,2000] [--duration 5] [--quick]
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gevent  # noqa: E402
import requests  # noqa: E402

from bench import common  # noqa: E402
from bench.common import ms  # noqa: E402
from tests.support.served import ServedChatHub, free_port  # noqa: E402

API_KEY = "sk-bench-0000abcd"
PASSWORD = "bench-password-1"
SLOW_MESSAGE = "the quick brown fox jumps over the lazy dog"  # the reply has 10 words
SLOW_WORDS = len(f"Echo: {SLOW_MESSAGE}".split(" "))
FAST_MESSAGE = "hello there"
LONG_WORDS = 2000  # the fake upstream's default for fault-long
TARGETS = {"ttft_ms": 3.0, "wall_ratio": 2.0, "kib_per_stream": 64.0, "ms_per_chunk": 0.1}


def raise_nofile():
    """Lift the open-files limit to the hard limit (inherited by the servers started below)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start_upstream(slow_delay):
    """The fake upstream in its own process (gevent mode); (process, base url)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_upstream", "--port", str(port), "--slow-delay", str(slow_delay), "--gevent",
         "--nodelay"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the fake upstream did not start")


def migrate(database_url):
    """`flask db upgrade` on a fresh database; tables a pending migration lacks are created (and said)."""
    env = {**os.environ, "FLASK_APP": "wsgi.py", "DATABASE_URL": database_url, "CHATHUB_ENV": "development"}
    subprocess.run([str(Path(sys.executable).parent / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    from sqlalchemy import inspect

    from chathub import create_app
    from chathub.extensions import db

    app = create_app({"CHATHUB_ENV": "development", "SQLALCHEMY_DATABASE_URI": database_url,
                      "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
    with app.app_context():
        missing = sorted(set(db.metadata.tables) - set(inspect(db.engine).get_table_names()))
        if missing:
            print(f"  note: the migrations lack {', '.join(missing)}; created with create_all "
                  "(a migration is pending)")
            db.create_all()
    return app


def seed(app, upstream_url):
    """A user with a personal key for a provider at the fake upstream, and the models the bench uses."""
    from chathub.catalog.models import AiModel, Provider
    from chathub.extensions import db
    from chathub.keys.models import ApiKey
    from chathub.security import encrypt_secret, mask_secret
    from chathub.users import service as users

    with app.app_context():
        user = users.create_user("bench", "bench@example.com", PASSWORD)
        db.session.add(Provider(provider_key="benchfake", display_name="Bench fake", default_base_url=upstream_url,
                                is_active=True))
        db.session.flush()
        for name in ("fake-model-1", "fault-slow", "fault-long"):
            db.session.add(AiModel(model_name=name, display_name=name, model_provider="benchfake",
                                   input_price_per_1k=Decimal("0.5"), output_price_per_1k=Decimal("1.5")))
        db.session.add(ApiKey(user_id=user.id, model_provider="benchfake", scope="personal",
                              api_key_encrypted=encrypt_secret(API_KEY), key_hint=mask_secret(API_KEY)))
        db.session.commit()


def upstream_body(model, message):
    """What ChatHub itself sends upstream for a one-message chat."""
    return {"model": model, "messages": [{"role": "user", "content": message}], "stream": True,
            "stream_options": {"include_usage": True}}


def run_concurrently(target, body, count):
    """`count` streams at once; (results, wall seconds from the first connect to the last end)."""
    started = time.perf_counter()
    jobs = [gevent.spawn(common.stream, target, body) for _ in range(count)]
    gevent.joinall(jobs)
    return [job.value for job in jobs], time.perf_counter() - started


class Ledger:
    """Every ChatHub chat the bench made, checked in the database at the end of each section."""

    def __init__(self, database_path):
        self.database_path = database_path
        self.failures = []

    def check_stream(self, label, result, message, reply):
        """True when the stream itself went right (200, start ... end complete, the whole reply)."""
        end = result.events[-1] if result.events else {}
        if not result.ok or end.get("type") != "end" or end.get("status") != "complete":
            self.failures.append(f"{label}: stream failed ({result.error or end})")
            return False
        if common.text_of_chathub(result.events) != reply:
            self.failures.append(f"{label}: the relayed reply differs from the upstream's")
            return False
        return True

    def check_stored(self, label, results, message, reply):
        """How many of `results` stored exactly (user message, complete reply); failures recorded."""
        expected = [("user", message, "complete"), ("assistant", reply, "complete")]
        ids = [r.events[0].get("conversation_id") for r in results if r.events and r.events[0].get("type") == "start"]
        stored = {}
        connection = sqlite3.connect(f"file:{self.database_path}?mode=ro", uri=True, timeout=30)
        try:
            for offset in range(0, len(ids), 500):
                batch = ids[offset:offset + 500]
                rows = connection.execute(
                    f"SELECT conversation_id, role, content, status FROM messages WHERE conversation_id IN "
                    f"({','.join('?' * len(batch))}) ORDER BY created_at, id", batch)
                for conversation_id, role, content, status in rows:
                    stored.setdefault(conversation_id, []).append((role, content, status))
        finally:
            connection.close()
        good = sum(1 for cid in ids if stored.get(cid) == expected)
        if good != len(results):
            self.failures.append(f"{label}: {len(results) - good} of {len(results)} chats did not store both messages")
        return good


def section_ttft(upstream, hub, ledger, samples):
    """(a) Sequential first-token times, direct and through ChatHub, interleaved."""
    print(f"\n(a) time to first token, {samples} sequential chats each way (fake-model-1, replies at once)")
    direct_body = upstream_body("fake-model-1", FAST_MESSAGE)
    hub_body = {"message": FAST_MESSAGE, "model": "fake-model-1"}
    reply = f"Echo: {FAST_MESSAGE}"
    for _ in range(10):  # warm-up: pools, caches, first-request imports
        common.stream(upstream, direct_body)
        common.stream(hub, hub_body)
    direct, through, results = [], [], []
    for _ in range(samples):
        d = common.stream(upstream, direct_body)
        h = common.stream(hub, hub_body)
        if d.ok:
            direct.append(d.first_token)
        else:
            ledger.failures.append(f"(a) direct stream failed: {d.error}")
        if ledger.check_stream("(a)", h, FAST_MESSAGE, reply):
            through.append(h.first_token)
        results.append(h)
    stored = ledger.check_stored("(a)", results, FAST_MESSAGE, reply)
    row = {}
    for name, fraction in (("p50", 0.5), ("p95", 0.95)):
        a, b = common.percentile(direct, fraction), common.percentile(through, fraction)
        row[name] = (b - a) if a is not None and b is not None else None
        print(f"  {name}: direct {ms(a)} ms, through ChatHub {ms(b)} ms, overhead {ms(row[name])} ms")
    print(f"  stored both messages: {stored}/{len(results)}")
    return row


def section_streams(upstream, hub, ledger, counts, worker_pid, duration, upstream_pid):
    """(b) and (d): N concurrent ~duration-second streams, bare upstream then ChatHub."""
    print(f"\n(b) concurrent streams of {SLOW_WORDS} words over ~{duration:g} s (fault-slow), one ChatHub worker")
    direct_body = upstream_body("fault-slow", SLOW_MESSAGE)
    hub_body = {"message": SLOW_MESSAGE, "model": "fault-slow"}
    reply = f"Echo: {SLOW_MESSAGE}"
    idle = common.rss_kib(worker_pid)
    print(f"  worker idle RSS before the runs: {idle / 1024:.1f} MiB")
    rows = []
    for count in counts:
        bare, bare_wall = run_concurrently(upstream, direct_body, count)
        bare_errors = sum(1 for r in bare if not r.ok)
        gevent.sleep(1)
        before = common.rss_kib(worker_pid)
        sampler = common.PeakRss(worker_pid)
        cpu = common.cpu_seconds(worker_pid)
        others = common.cpu_seconds(upstream_pid), common.cpu_seconds(os.getpid())
        results, wall = run_concurrently(hub, hub_body, count)
        cpu = common.cpu_seconds(worker_pid) - cpu
        upstream_cpu = common.cpu_seconds(upstream_pid) - others[0]
        client_cpu = common.cpu_seconds(os.getpid()) - others[1]
        peak = sampler.stop()
        errors = sum(1 for r in results if not ledger.check_stream(f"(b) {count}", r, SLOW_MESSAGE, reply))
        stored = ledger.check_stored(f"(b) {count}", results, SLOW_MESSAGE, reply)
        ttft = [r.first_token for r in results if r.first_token is not None]
        bare_ttft = [r.first_token for r in bare if r.first_token is not None]
        row = {"count": count, "errors": errors, "bare_errors": bare_errors, "wall": wall, "bare_wall": bare_wall,
               "stored": stored, "cpu": cpu, "peak": peak, "before": before, "idle": idle,
               "ttft50": common.percentile(ttft, 0.5), "ttft95": common.percentile(ttft, 0.95),
               "ttft_max": max(ttft) if ttft else None, "bare_ttft50": common.percentile(bare_ttft, 0.5),
               "bare_ttft95": common.percentile(bare_ttft, 0.95)}
        rows.append(row)
        print(f"  {count:>5} streams: bare upstream {bare_wall:.2f} s ({bare_errors} errors), ChatHub {wall:.2f} s "
              f"= {wall / bare_wall:.2f}x, {errors} errors, stored both messages {stored}/{count}")
        print(f"         first token under load: ChatHub p50 {ms(row['ttft50'])} / p95 {ms(row['ttft95'])} / "
              f"max {ms(row['ttft_max'])} ms; bare p50 {ms(row['bare_ttft50'])} / p95 {ms(row['bare_ttft95'])} ms")
        print(f"         CPU during the ChatHub run: worker {cpu:.2f} s ({cpu / wall * 100:.0f}% of one core), "
              f"fake upstream {upstream_cpu:.2f} s, load generator {client_cpu:.2f} s "
              f"(of {os.cpu_count() * wall:.1f} s on {os.cpu_count()} CPUs)")
        print(f"         worker RSS {before / 1024:.1f} -> "
              f"peak {peak / 1024:.1f} MiB: {(peak - before) / count:.1f} KiB per stream over the run's start, "
              f"{(peak - idle) / count:.1f} KiB over the idle worker")
        gevent.sleep(1)
    return rows


def section_chunks(upstream, hub, ledger, count, worker_pid):
    """(c) fault-long (LONG_WORDS words as fast as the upstream writes them), `count` streams at once."""
    print(f"\n(c) relayed chunks: {count} concurrent fault-long streams of {LONG_WORDS} chunks each")
    reply = "".join(f"w{i} " for i in range(LONG_WORDS))
    direct, direct_wall = run_concurrently(upstream, upstream_body("fault-long", "go"), count)
    direct_chunks = sum(1 for r in direct for e in r.events for c in e.get("choices") or []
                        if (c.get("delta") or {}).get("content"))
    cpu = common.cpu_seconds(worker_pid)
    results, wall = run_concurrently(hub, {"message": "go", "model": "fault-long"}, count)
    cpu = common.cpu_seconds(worker_pid) - cpu
    for r in results:
        ledger.check_stream("(c)", r, "go", reply)
    ledger.check_stored("(c)", results, "go", reply)
    chunks = sum(sum(1 for e in r.events if e.get("type") == "content") for r in results)
    per_chunk = cpu / chunks if chunks else None
    print(f"  direct: {direct_chunks} chunks in {direct_wall:.2f} s = {direct_chunks / direct_wall:,.0f} chunks/s")
    print(f"  ChatHub: {chunks} chunks in {wall:.2f} s = {chunks / wall:,.0f} chunks/s; worker CPU {cpu:.2f} s = "
          f"{ms(per_chunk)} ms per relayed chunk (request set-up and storage included)")
    return {"per_chunk": per_chunk, "rate": chunks / wall, "direct_rate": direct_chunks / direct_wall}


def verdict(value, target, fmt):
    """`value` formatted, with whether it meets `target` (lower is better)."""
    if value is None:
        return "n/a"
    return f"{fmt.format(value)} ({'meets' if value <= target else 'MISSES'} target {fmt.format(target)})"


def summary(ttft, streams, chunks):
    """The four headline numbers against the issue's targets."""
    print("\nsummary (targets from issue 4 item 9)")
    print(f"  first-token overhead p50: {verdict(ttft['p50'] and ttft['p50'] * 1000, TARGETS['ttft_ms'], '{:.2f} ms')}"
          f", p95 {ms(ttft['p95'])} ms")
    for row in streams:
        ratio = row["wall"] / row["bare_wall"]
        print(f"  {row['count']} streams: {row['errors']} errors, {row['stored']}/{row['count']} stored, wall "
              f"{verdict(ratio, TARGETS['wall_ratio'], '{:.2f}x')} of the bare upstream")
    if streams:
        biggest = max(streams, key=lambda r: r["count"])
        per_stream = (biggest["peak"] - biggest["idle"]) / biggest["count"]
        print(f"  memory per open stream at {biggest['count']}: "
              f"{verdict(per_stream, TARGETS['kib_per_stream'], '{:.1f} KiB')}")
    per_chunk = chunks["per_chunk"] and chunks["per_chunk"] * 1000
    print(f"  worker CPU per relayed chunk: {verdict(per_chunk, TARGETS['ms_per_chunk'], '{:.3f} ms')}")


def main():
    """Parse options, start everything, run the sections, print, exit 1 on any failed stream or storage."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default="500,1000,2000", help="comma-separated concurrent stream counts")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds each concurrent stream lasts")
    parser.add_argument("--samples", type=int, default=200, help="sequential chats for the first-token times")
    parser.add_argument("--long-streams", type=int, default=4, help="concurrent fault-long streams for (c)")
    parser.add_argument("--quick", action="store_true", help="small numbers for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.streams, args.duration, args.samples, args.long_streams = "20,50", 1.0, 20, 2
    counts = [int(n) for n in args.streams.split(",") if n.strip()]

    nofile = raise_nofile()
    print(f"chat bench: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"RLIMIT_NOFILE {nofile}, streams {counts}, ~{args.duration:g} s each")
    upstream_process, upstream_url = start_upstream(args.duration / SLOW_WORDS)
    workdir = tempfile.mkdtemp(prefix="chathub-bench-")
    database_path = os.path.join(workdir, "bench.db")
    database_url = f"sqlite:///{database_path}"
    try:
        seed(migrate(database_url), upstream_url)
        env = {"RATELIMIT_DEFAULT": "100000000 per minute", "GUNICORN_WORKER_CONNECTIONS": max(counts + [100]) + 200,
               "UPSTREAM_READ_TIMEOUT": 120, "CHATHUB_ALLOW_PRIVATE_UPSTREAMS": "true"}
        with ServedChatHub(database_url, workers=1, **env) as served:
            worker_pid = common.children(served.process.pid)[0]
            login = requests.post(served.url + "/api/auth/login", json={"username": "bench", "password": PASSWORD},
                                  timeout=10)
            login.raise_for_status()
            hub = common.chathub_target(served.url, login.json()["access_token"])
            upstream = common.upstream_target(upstream_url, API_KEY)
            print(f"  ChatHub: 1 gunicorn gevent worker (pid {worker_pid}), SQLite {database_path}; "
                  f"fake upstream {upstream_url} (gevent, fault-slow delay {args.duration / SLOW_WORDS:.2f} s)")
            ledger = Ledger(database_path)
            ttft = section_ttft(upstream, hub, ledger, args.samples)
            streams = section_streams(upstream, hub, ledger, counts, worker_pid, args.duration, upstream_process.pid)
            chunks = section_chunks(upstream, hub, ledger, args.long_streams, worker_pid)
            summary(ttft, streams, chunks)
    finally:
        upstream_process.terminate()
        upstream_process.wait(10)
    if ledger.failures:
        print(f"\nFAILED: {len(ledger.failures)} problems")
        for failure in ledger.failures[:20]:
            print(f"  {failure}")
        return 1
    print("\nevery stream completed and every chat stored both messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
