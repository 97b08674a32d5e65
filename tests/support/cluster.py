"""Two ChatHub instances (gunicorn, gevent workers) sharing one PostgreSQL database and one Redis, as a
scaled deployment runs them; for the multi-instance and fault tests."""
import subprocess
from contextlib import ExitStack
from pathlib import Path

from tests.support.served import ServedChatHub

ROOT = Path(__file__).resolve().parents[2]
REDIS_SCRIPT = ROOT / "tests" / "support" / "redis.sh"


class RedisServer:
    """`with RedisServer(port) as redis:` — a throw-away Redis; `redis.url`, `stop()`, `start()`."""

    def __init__(self, port):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        """Start (or restart) the server."""
        subprocess.run(["bash", str(REDIS_SCRIPT), "start", str(self.port)], check=True, capture_output=True)

    def stop(self):
        """Stop the server (data is not kept)."""
        subprocess.run(["bash", str(REDIS_SCRIPT), "stop", str(self.port)], check=True, capture_output=True)

    def flush(self):
        """Forget every key (counters of earlier tests, whose user ids the next test reuses)."""
        subprocess.run(["redis-cli", "-p", str(self.port), "flushall"], check=True, capture_output=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class Cluster:
    """Redis plus instances A and B on one database; each instance runs `workers` gevent workers."""

    def __init__(self, database_url, redis_port, workers=2, **env):
        self.database_url = database_url
        self.redis = RedisServer(redis_port)
        self.workers = workers
        self.env = env
        self.stack = ExitStack()
        self.a = self.b = None

    def __enter__(self):
        self.stack.enter_context(self.redis)
        env = {"RATELIMIT_STORAGE_URI": self.redis.url, "REDIS_URL": self.redis.url, **self.env}
        self.a = self.stack.enter_context(ServedChatHub(self.database_url, workers=self.workers, **env))
        self.b = self.stack.enter_context(ServedChatHub(self.database_url, workers=self.workers, **env))
        return self

    def __exit__(self, *exc):
        self.stack.close()
