"""What the chat benchmark is made of: a lean streaming HTTP client for gevent greenlets (raw sockets, so
the load generator costs little next to what it measures), SSE/chunked decoding done after the fact,
percentiles, and reading a process's memory and CPU time from /proc (psutil is not a dependency).

Import it only after `gevent.monkey.patch_all()`: the client's sockets must be gevent's.
"""
import json
import math
import os
import re
import socket
import statistics
import time
from dataclasses import dataclass, field

READ_SIZE = 65536
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class StreamResult:
    """One streamed request as the client saw it (times in seconds from just before connecting)."""

    status: int | None = None
    first_token: float | None = None
    total: float | None = None
    error: str | None = None
    raw: bytes = b""
    events: list = field(default_factory=list)

    @property
    def ok(self):
        """Answered 200, saw a first token and an end, and no error."""
        return self.error is None and self.status == 200 and self.first_token is not None and self.total is not None


@dataclass(frozen=True)
class Target:
    """Where a stream goes and how to recognise its first token and its end in the raw bytes."""

    host: str
    port: int
    path: str
    headers: dict
    first_marker: bytes
    end_markers: tuple


def upstream_target(base_url, api_key):
    """A target for the OpenAI-compatible upstream directly (`base_url` ends in /v1)."""
    host, port = base_url.split("//", 1)[1].split("/", 1)[0].split(":")
    return Target(host, int(port), "/v1/chat/completions", {"Authorization": f"Bearer {api_key}"},
                  b'"delta": {"content": "', (b"data: [DONE]",))


def chathub_target(url, token):
    """A target for ChatHub's `POST /api/chat/stream`, authenticated with a Bearer token."""
    host, port = url.split("//", 1)[1].split(":")
    return Target(host, int(port), "/api/chat/stream", {"Authorization": f"Bearer {token}"},
                  b'"type": "content"', (b'"type": "end"', b'"type": "error"'))


def stream(target, body, timeout=120.0):
    """POST `body` to `target` and read the response to its end; never raises."""
    result = StreamResult()
    payload = json.dumps(body).encode()
    head = [f"POST {target.path} HTTP/1.1", f"Host: {target.host}:{target.port}", "Content-Type: application/json",
            f"Content-Length: {len(payload)}", "Accept: text/event-stream", "Connection: close"]
    head += [f"{name}: {value}" for name, value in target.headers.items()]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
    started = time.perf_counter()
    sock = None
    buffer = bytearray()
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request)
        scanned = 0
        while True:
            data = sock.recv(READ_SIZE)
            if not data:
                break
            buffer += data
            window = bytes(buffer[max(0, scanned - 32):])
            scanned = len(buffer)
            if result.first_token is None and target.first_marker in window:
                result.first_token = time.perf_counter() - started
            if any(marker in window for marker in target.end_markers):
                result.total = time.perf_counter() - started
                break
    except OSError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if sock is not None:
            sock.close()
    result.raw = bytes(buffer)
    decode(result)
    return result


def dechunk(body):
    """The payload of an HTTP/1.1 chunked body (tolerates a body cut off at the end)."""
    out, position = bytearray(), 0
    while position < len(body):
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            break
        size = int(body[position:line_end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += body[line_end + 2:line_end + 2 + size]
        position = line_end + 2 + size + 2
    return bytes(out)


def decode(result):
    """Fill `status` and `events` (the JSON of every `data:` line) from the raw response."""
    head, _, body = result.raw.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    if match is None:
        result.error = result.error or "no HTTP status line"
        return
    result.status = int(match.group(1))
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    for line in body.split(b"\n"):
        if line.startswith(b"data: ") and line != b"data: [DONE]":
            try:
                result.events.append(json.loads(line[6:]))
            except ValueError:
                result.error = result.error or "a data line that is not JSON"
    if result.status != 200 and result.error is None:
        result.error = f"HTTP {result.status}"


def text_of_chathub(events):
    """The reply text of ChatHub `content` events."""
    return "".join(e.get("content", "") for e in events if e.get("type") == "content")


def text_of_upstream(events):
    """The reply text of OpenAI chunks."""
    return "".join((c.get("delta") or {}).get("content") or "" for e in events for c in e.get("choices") or [])


def percentile(values, fraction):
    """The `fraction` percentile (0..1) of `values`, nearest-rank; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def median(values):
    """The median, None when empty."""
    return statistics.median(values) if values else None


def rss_kib(pid):
    """The resident set size of `pid` in KiB (VmRSS of /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid):
    """User + system CPU seconds `pid` has used so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid):
    """The child process ids of `pid`."""
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(p) for p in handle.read().split()]


class PeakRss:
    """Samples a process's RSS in a greenlet every `interval` seconds; `.peak` is the highest seen."""

    def __init__(self, pid, interval=0.05):
        import gevent

        self.pid, self.interval, self.peak = pid, interval, rss_kib(pid)
        self.greenlet = gevent.spawn(self._run)

    def _run(self):
        import gevent

        while True:
            self.peak = max(self.peak, rss_kib(self.pid))
            gevent.sleep(self.interval)

    def stop(self):
        """Stop sampling; returns the peak in KiB."""
        self.peak = max(self.peak, rss_kib(self.pid))
        self.greenlet.kill()
        return self.peak


def ms(seconds):
    """Seconds as a millisecond string."""
    return "-" if seconds is None else f"{seconds * 1000:.2f}"
