"""gunicorn settings: gevent workers for long-lived streams, bound to loopback by default."""
import os
import socket

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
