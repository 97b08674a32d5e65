"""The upstream client against a real OpenAI-compatible server on loopback: streaming and plain
completions, model lists, every failure as our error (never with the key), timeouts, no redirects,
and the base-URL policy checked at use (including on the address a connection really reached)."""
import json
import socket
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chathub.errors import ApiError
from chathub.keys.resolve import Credential
from chathub.upstream import client, urlguard

KEY = "sk-upstream-test-key-abcd1234"


def credential(base_url, api_key=KEY, private_allowed=True, model="fake-model-1"):
    return Credential(provider_key="fake", base_url=base_url, api_key=api_key, api_key_id=1, source="personal",
                      model_id=1, model_name=model, input_price_per_1k=Decimal("0"),
                      output_price_per_1k=Decimal("0"), private_allowed=private_allowed)


def chat(model, text="hello there", stream=False):
    return {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}


def failure(app, call):
    with app.app_context(), pytest.raises(ApiError) as caught:
        call()
    assert KEY not in caught.value.message and KEY[:-4] not in caught.value.message
    return caught.value


def test_stream_is_returned_open_with_our_headers(app, fake_upstream):
    with app.app_context():
        response = client.open_chat_stream(credential(fake_upstream.url), chat("fake-model-1", stream=True))
    lines = [line for line in response.iter_lines(decode_unicode=True) if line.startswith("data: ")]
    response.close()
    assert lines[-1] == "data: [DONE]"
    text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content", "") for line in lines[:-1])
    assert text == "Echo: hello there"
    headers = fake_upstream.requests[-1]["headers"]
    assert headers["Authorization"] == f"Bearer {KEY}" and headers["User-Agent"].startswith("ChatHub/")


def test_plain_completion_and_model_list(app, fake_upstream):
    with app.app_context():
        answer = client.chat_completion(credential(fake_upstream.url), chat("fake-model-1"))
        models = client.list_models(credential(fake_upstream.url, api_key=None))
    assert answer["choices"][0]["message"]["content"] == "Echo: hello there"
    assert models == ["fake-model-1", "fake-model-2", "fake-vision-1"]
    assert "Authorization" not in fake_upstream.requests[-1]["headers"]  # no key, no header


def test_rejected_key_is_a_clear_502_without_the_key(app, fake_upstream):
    error = failure(app, lambda: client.chat_completion(credential(fake_upstream.url, api_key="bad-" + KEY), chat("m")))
    assert (error.status, error.code) == (502, "AI_API_ERROR") and "rejected the API key" in error.message
    assert "bad-" not in error.message
    bad = credential(fake_upstream.url, api_key="bad-x")
    stream_error = failure(app, lambda: client.open_chat_stream(bad, chat("m")))
    assert "rejected the API key" in stream_error.message


def test_upstream_errors_carry_the_providers_message(app, fake_upstream):
    error = failure(app, lambda: client.open_chat_stream(credential(fake_upstream.url), chat("fault-500", stream=True)))
    assert (error.status, error.code) == (502, "AI_API_ERROR")
    assert "HTTP 500" in error.message and "The upstream model crashed" in error.message
    limited = failure(app, lambda: client.chat_completion(credential(fake_upstream.url), chat("fault-429")))
    assert "HTTP 429" in limited.message and "Rate limit" in limited.message


def test_a_silent_upstream_times_out_as_504(app, fake_upstream, monkeypatch):
    monkeypatch.setitem(app.config, "UPSTREAM_READ_TIMEOUT", 0.3)
    hanging = chat("fault-hang", stream=True)
    error = failure(app, lambda: client.open_chat_stream(credential(fake_upstream.url), hanging))
    assert (error.status, error.code) == (504, "UPSTREAM_TIMEOUT")


def test_connection_refused_is_a_502(app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = failure(app, lambda: client.list_models(credential(f"http://127.0.0.1:{port}/v1")))
    assert (error.status, error.code) == (502, "AI_API_ERROR") and "Could not connect" in error.message


def test_connection_reset_mid_stream_surfaces_to_the_reader(app, fake_upstream):
    import requests

    with app.app_context():
        response = client.open_chat_stream(credential(fake_upstream.url), chat("fault-reset", "a b c d e f", True))
    with pytest.raises(requests.exceptions.RequestException):
        list(response.iter_lines())


class Redirector(BaseHTTPRequestHandler):
    """Answers every request with a redirect to another server (which must never be contacted)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", self.server.target + "/models")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_redirects_are_not_followed(app, fake_upstream):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    server.target = fake_upstream.url
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        before = len(fake_upstream.requests)
        error = failure(app, lambda: client.list_models(credential(f"http://127.0.0.1:{server.server_address[1]}/v1")))
        assert error.status == 502 and "redirect" in error.message
        assert len(fake_upstream.requests) == before
    finally:
        server.shutdown()
        server.server_close()


def test_private_address_refused_at_use_when_not_allowed(app, fake_upstream):
    before = len(fake_upstream.requests)
    error = failure(app, lambda: client.list_models(credential(fake_upstream.url, private_allowed=False)))
    assert (error.status, error.code) == (403, "PROVIDER_NOT_ACCESSIBLE")
    assert len(fake_upstream.requests) == before


def test_connection_to_a_private_peer_is_refused_even_if_dns_said_public(app, fake_upstream, monkeypatch):
    # DNS rebinding: the pre-check saw a public address, the connection reached loopback.
    monkeypatch.setattr(client, "check_host", lambda url: None)
    before = len(fake_upstream.requests)
    error = failure(app, lambda: client.list_models(credential(fake_upstream.url, private_allowed=False)))
    assert error.code == "PROVIDER_NOT_ACCESSIBLE"
    assert len(fake_upstream.requests) == before


@pytest.mark.parametrize("url, expected", [
    ("https://api.siliconflow.cn/v1/chat/completions", "https://api.siliconflow.cn/v1"),
    ("HTTPS://api.openai.com/v1/", "https://api.openai.com/v1"),
    ("http://localhost:11434", "http://localhost:11434"),
    ("https://openrouter.ai/api/v1/models", "https://openrouter.ai/api/v1"),
])
def test_base_urls_are_normalised(url, expected):
    assert urlguard.normalize_base_url(url) == expected


@pytest.mark.parametrize("url", ["ftp://x.org", "javascript:alert(1)", "https://", "https://u:p@x.org",
                                 "https://x.org/v1?key=1", "https://x.org:99999", ""])
def test_bad_base_urls_are_refused(url):
    with pytest.raises(ValueError):
        urlguard.normalize_base_url(url)


@pytest.mark.parametrize("address, blocked", [
    ("127.0.0.1", True), ("10.0.0.8", True), ("172.16.5.4", True), ("192.168.1.1", True),
    ("169.254.169.254", True), ("100.64.0.1", True), ("0.0.0.0", True), ("::1", True), ("fe80::1", True),
    ("fd00::1", True), ("::ffff:127.0.0.1", True), ("8.8.8.8", False), ("2606:4700:4700::1111", False),
])
def test_internal_address_ranges(address, blocked):
    assert urlguard.address_blocked(address) is blocked
