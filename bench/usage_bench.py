"""How long `/api/stats/usage` takes with 100,000 usage rows, per granularity.

Inserts the rows (one user, spread over the last year, three providers) into a scratch SQLite
database, and into PostgreSQL too when TEST_DATABASE_URL is set (its tables are dropped and
recreated: point it at a scratch database), then times each granularity through the app.

    .venv/bin/python bench/usage_bench.py [--rows 100000] [--repeat 5]
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from chathub import create_app  # noqa: E402
from chathub.auth.service import issue_tokens  # noqa: E402
from chathub.extensions import db  # noqa: E402
from chathub.stats.models import UsageRecord  # noqa: E402
from chathub.timeutil import utcnow  # noqa: E402
from chathub.users import service as users  # noqa: E402

PROVIDERS = ("openai", "deepseek", "ollama")
CHUNK = 10_000


def usage_rows(user_id, count, now):
    """`count` usage rows for `user_id`, spread evenly at random over the year before `now`."""
    rng = random.Random(42)
    for index in range(count):
        prompt, completion = rng.randint(10, 2000), rng.randint(10, 1000)
        yield {
            "user_id": user_id, "conversation_id": None, "message_id": f"bench-{index}",
            "model_name": f"model-{index % 5}", "model_id": None, "provider_key": PROVIDERS[index % 3],
            "provider_id": None, "api_key_id": None, "prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "cost": Decimal(prompt + completion) / Decimal(100000),
            "first_token_ms": rng.randint(50, 900), "total_ms": rng.randint(500, 9000), "status": "complete",
            "created_at": now - timedelta(seconds=rng.randint(0, 365 * 86400)),
        }


def fill(app, count):
    """Fresh tables, a user and `count` usage rows; returns that user's Bearer headers."""
    with app.app_context():
        db.drop_all()
        db.create_all()
        user = users.create_user("bench", "bench@example.com", "bench-password")
        rows, batch, started = usage_rows(user.id, count, utcnow()), [], time.perf_counter()
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK:
                db.session.execute(insert(UsageRecord), batch)
                batch = []
        if batch:
            db.session.execute(insert(UsageRecord), batch)
        db.session.commit()
        print(f"  inserted {count:,} rows in {time.perf_counter() - started:.1f} s")
        return {"Authorization": f"Bearer {issue_tokens(user, with_refresh=False)['access_token']}"}


def time_requests(app, headers, repeat):
    """Print the median and worst time of each report."""
    today = utcnow().date()
    cases = [
        ("hourly, last 31 days", "/api/stats/usage", {"granularity": "hourly",
                                                     "start_date": str(today - timedelta(days=30))}),
        ("daily, last 365 days", "/api/stats/usage", {"granularity": "daily",
                                                     "start_date": str(today - timedelta(days=364))}),
        ("monthly, last 13 months", "/api/stats/usage", {"granularity": "monthly",
                                                        "start_date": str(today - timedelta(days=395))}),
        ("daily, one provider", "/api/stats/usage", {"granularity": "daily", "provider": "openai",
                                                    "start_date": str(today - timedelta(days=364))}),
        ("/api/stats overview", "/api/stats", {}),
    ]
    client = app.test_client()
    for label, path, params in cases:
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(path, query_string=params, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_json()
        data = response.get_json()["data"]
        total = data.get("summary", data).get("total_requests")
        print(f"  {label:<26} median {statistics.median(timings):7.1f} ms   max {max(timings):7.1f} ms"
              f"   ({total:,} requests)")


def run(name, url, rows, repeat):
    """Fill one database and time the reports on it."""
    print(f"{name}: {url.split('@')[-1]}")
    app = create_app({"CHATHUB_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    headers = fill(app, rows)
    time_requests(app, headers, repeat)
    with app.app_context():
        db.session.remove()
        db.drop_all()


def main():
    """Run on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run("SQLite", f"sqlite:///{scratch}/usage-bench.db", args.rows, args.repeat)
    if os.environ.get("TEST_DATABASE_URL"):
        run("PostgreSQL", os.environ["TEST_DATABASE_URL"], args.rows, args.repeat)


if __name__ == "__main__":
    main()
