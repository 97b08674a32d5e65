"""Run ChatHub for real — gunicorn with the repo's gunicorn.conf.py (gevent workers) — for tests that need
a socket: streaming through a real server, browsers, several instances."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServedChatHub:
    """`with ServedChatHub(database_url, **env) as hub:` serves on `hub.url` until the block ends."""

    def __init__(self, database_url, workers=1, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            # development reads every setting from the environment (testing pins some)
            "CHATHUB_ENV": "development",
            "DATABASE_URL": database_url,
            "RATELIMIT_DEFAULT": "10000 per minute",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
            "CHATHUB_DEMO_TOKEN": "",
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_LOGLEVEL": "warning",
            "GUNICORN_GRACEFUL_TIMEOUT": "5",
            **{key: str(value) for key, value in env.items()},
        }
        self.process = None
        self.log_path = None

    def __enter__(self):
        log = open(f"/tmp/chathub-served-{self.port}.log", "w")  # noqa: SIM115 - closed in __exit__
        self.log_path, self.log = log.name, log
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.process = subprocess.Popen(
            [gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {Path(self.log_path).read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/api/health", timeout=1).status_code in (200, 503):
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not start in 30 s")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def logs(self):
        """What gunicorn and the app wrote."""
        return Path(self.log_path).read_text()
