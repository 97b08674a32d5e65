"""gunicorn settings: gevent workers for long-lived streams, bound to loopback by default."""
import logging
import os
import signal
import socket
import sys
import time

from dotenv import load_dotenv

load_dotenv(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".env"))

bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '5001'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 1)
worker_class = "gevent"
# Each open stream is one greenlet; a worker holds this many at once.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS") or 2000)
# gevent workers heartbeat from their own loop, so long streams do not trip this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 30)
keepalive = 5
# Access log without query strings (they can carry tokens in misuse) and without headers.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL") or "info"
# gunicorn's control socket defaults to one path per user; several instances on one machine each get their own.
control_socket = f"/tmp/chathub-gunicorn-{bind.rsplit(':', 1)[1]}.ctl"


def when_ready(server):
    """Set TCP_NODELAY on every listening socket so small SSE writes are not delayed."""
    for listener in server.LISTENERS:
        try:
            listener.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


# ChatHub's own warnings (and Flask-Limiter's, e.g. "Rate limit storage unreachable") go to the error log.
_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s",
                                        "[%Y-%m-%d %H:%M:%S %z]"))
_handler.setLevel(loglevel.upper())
for _name in ("chathub", "flask-limiter"):
    logging.getLogger(_name).addHandler(_handler)
    logging.getLogger(_name).propagate = False


def stop_generations(timeout):
    """Stop this worker's running generations and wait until each has stored its partial reply."""
    if "chathub.chat.generations" not in sys.modules:  # the master, or a worker that never chatted
        return 0
    from chathub.chat.generations import stop_all_generations

    return stop_all_generations("shutdown", timeout=timeout)


def drain_generations(worker):
    """A stopping worker: let running replies finish for the grace period minus the time needed to store
    the rest, then stop those (stored as failed, SERVER_SHUTDOWN) before gunicorn kills the worker."""
    import gevent

    deadline = time.monotonic() + max(0.0, graceful_timeout - SHUTDOWN_STORE_SECONDS)
    generations = sys.modules.get("chathub.chat.generations")
    while generations is not None and generations.running() and time.monotonic() < deadline:
        gevent.sleep(0.2)
    count = stop_generations(SHUTDOWN_STORE_SECONDS * 0.8)
    if count:
        worker.log.warning("stopped %d running generation(s) at shutdown; partial replies stored", count)


SHUTDOWN_STORE_SECONDS = max(1.0, min(5.0, graceful_timeout / 2))


def post_worker_init(worker):
    """On SIGTERM, stop running generations within the grace period (gunicorn itself only waits)."""
    import gevent

    def handle_term(sig, frame):
        worker.handle_exit(sig, frame)
        gevent.spawn(drain_generations, worker)

    signal.signal(signal.SIGTERM, handle_term)
    signal.siginterrupt(signal.SIGTERM, False)


def worker_int(worker):
    """SIGINT/SIGQUIT (quick shutdown): stop and store running generations at once."""
    stop_generations(SHUTDOWN_STORE_SECONDS * 0.8)


def worker_exit(server, worker):
    """Whatever is still running when a worker exits is stopped and stored (the master has none)."""
    stop_generations(SHUTDOWN_STORE_SECONDS * 0.8)
