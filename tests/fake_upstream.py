"""A real OpenAI-compatible upstream on loopback for tests and benchmarks, with fault modes.

Start: `upstream = FakeUpstream().start()`; its base URL is `upstream.url` (ends in /v1).
Or from a shell: `python -m tests.fake_upstream --port 9999`.

Behaviour is chosen by the request's model name (so one server serves every test):
  any ordinary name     streams the reply "Echo: <last user message>" word by word, with usage
                        when `stream_options.include_usage` is set (non-stream: one JSON answer)
  fault-500             HTTP 500 with an OpenAI error object, before any token
  fault-429             HTTP 429 rate limited
  fault-slow            like ordinary, but waits `slow_delay` seconds before each word
  fault-hang            sends nothing until the client gives up (bounded by `hang_seconds`)
  fault-reset           three words, then the TCP connection is reset
  fault-error-object    two words, then `data: {"error": {...}}`
  fault-malformed       two words, then a line that is not JSON
  fault-no-usage        never sends usage, even when asked
  fault-keepalive       comments, blank lines and `data:` lines split across writes between words
  fault-long            `long_words` words (for size limits and throughput)
An `Authorization: Bearer bad...` key answers 401 on every path.
Every request is recorded in `upstream.requests` as {"path", "headers", "json"};
`upstream.disconnects` counts streams the client closed before the end.
"""
import argparse
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ["fake-model-1", "fake-model-2", "fake-vision-1"]


def estimate_tokens(text):
    """A deterministic token count (4 characters a token, at least 1)."""
    return max(1, len(text) // 4)


class Handler(BaseHTTPRequestHandler):
    """Speaks OpenAI's `/v1/models` and `/v1/chat/completions`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # like a real provider: each SSE chunk leaves at once
    server_version = "FakeUpstream/1.0"

    def log_message(self, *args):
        pass

    @property
    def upstream(self):
        return self.server.upstream

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error_json(self, status, message, kind="invalid_request_error"):
        self.send_json(status, {"error": {"message": message, "type": kind, "code": status}})

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer bad"):
            self.error_json(401, "Incorrect API key provided.")
            return False
        return True

    def record(self, body):
        self.upstream.requests.append({"path": self.path, "headers": dict(self.headers), "json": body})

    def do_GET(self):
        self.record(None)
        if not self.authorized():
            return
        if self.path.rstrip("/").endswith("/models"):
            self.send_json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in MODELS]})
        else:
            self.error_json(404, "Not found")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self.record(None)
            self.error_json(400, "Invalid JSON")
            return
        self.record(body)
        if not self.authorized():
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self.error_json(404, "Not found")
            return
        model = body.get("model", "")
        if model == "fault-500":
            self.error_json(500, "The upstream model crashed", "server_error")
            return
        if model == "fault-429":
            self.error_json(429, "Rate limit reached for requests", "rate_limit_error")
            return
        if model == "fault-hang":
            self.hang()
            return
        words = self.reply_words(body)
        if body.get("stream"):
            self.stream(body, model, words)
        else:
            self.complete(body, model, words)

    def reply_words(self, body):
        if body.get("model") == "fault-long":
            return [f"w{i} " for i in range(self.upstream.long_words)]
        messages = body.get("messages") or []
        last_user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        if not isinstance(last_user, str):
            last_user = json.dumps(last_user)
        text = f"Echo: {last_user}"
        parts = text.split(" ")
        return [p + " " for p in parts[:-1]] + [parts[-1]]

    def usage(self, body, words):
        prompt = sum(estimate_tokens(str(m.get("content", ""))) for m in body.get("messages") or [])
        completion = len(words)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def complete(self, body, model, words):
        text = "".join(words)
        self.send_json(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": self.usage(body, words),
        })

    def hang(self):
        deadline = time.monotonic() + self.upstream.hang_seconds
        while time.monotonic() < deadline and not self.upstream.stopping.is_set():
            time.sleep(0.05)
        self.close_connection = True

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def event(self, payload):
        self.write_chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

    def delta(self, model, content):
        return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}

    def stream(self, body, model, words):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            self.event({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                     "finish_reason": None}]})
            for index, word in enumerate(words):
                if model == "fault-slow":
                    time.sleep(self.upstream.slow_delay)
                if model == "fault-reset" and index == 3:
                    self.reset()
                    return
                if model in ("fault-error-object", "fault-malformed") and index == 2:
                    if model == "fault-error-object":
                        self.event({"error": {"message": "The model overloaded mid-stream", "type": "server_error"}})
                    else:
                        self.write_chunk(b"data: {this is not json\n\n")
                    self.write_chunk(b"")
                    return
                if model == "fault-keepalive":
                    self.write_chunk(b": keep-alive\n\n")
                    line = b"data: " + json.dumps(self.delta(model, word)).encode() + b"\n\n"
                    self.write_chunk(line[:10])
                    time.sleep(0.002)
                    self.write_chunk(line[10:])
                    continue
                self.event(self.delta(model, word))
            self.event({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            wants_usage = (body.get("stream_options") or {}).get("include_usage")
            if wants_usage and model != "fault-no-usage":
                self.event({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model, "choices": [],
                            "usage": self.usage(body, words)})
            self.write_chunk(b"data: [DONE]\n\n")
            self.write_chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.upstream.disconnects += 1
            self.close_connection = True

    def reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


class FakeUpstream:
    """The server, its recorded requests and its knobs."""

    def __init__(self, host="127.0.0.1", port=0, slow_delay=0.2, hang_seconds=30.0, long_words=2000):
        self.requests = []
        self.disconnects = 0
        self.slow_delay = slow_delay
        self.hang_seconds = hang_seconds
        self.long_words = long_words
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.server.upstream = self
        self.thread = None

    @property
    def url(self):
        """The base URL (with /v1) to store as a provider's or key's base_url."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self):
        """Serve in a background thread; returns self."""
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        """Stop serving (hanging requests end too)."""
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def chat_requests(self):
        """The JSON bodies of every chat completion request received."""
        return [r["json"] for r in self.requests if r["path"].endswith("/chat/completions")]


def main():
    """Serve from a shell until interrupted (`--gevent` for thousands of concurrent streams)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--slow-delay", type=float, default=0.2, help="seconds before each word of fault-slow")
    parser.add_argument("--gevent", action="store_true",
                        help="serve every connection in a greenlet (monkey-patched), not a thread")
    parser.add_argument("--backlog", type=int, default=4096, help="listen queue length (bursts of connections)")
    parser.add_argument("--nodelay", action="store_true",
                        help="TCP_NODELAY on every connection, as real streaming servers set (no Nagle delay)")
    args = parser.parse_args()
    if args.gevent:
        from gevent import monkey

        monkey.patch_all()  # before the server exists: its sockets, threads and sleeps become gevent's
    ThreadingHTTPServer.request_queue_size = args.backlog
    Handler.disable_nagle_algorithm = args.nodelay
    upstream = FakeUpstream(args.host, args.port, slow_delay=args.slow_delay)
    print(f"fake upstream at {upstream.url}", flush=True)
    upstream.server.serve_forever()


if __name__ == "__main__":
    main()
