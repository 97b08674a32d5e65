"""The fake upstream speaks OpenAI's protocol (other tests rely on it)."""
import json

import pytest
import requests

from tests.fake_upstream import FakeUpstream


@pytest.fixture(scope="module")
def upstream():
    server = FakeUpstream(slow_delay=0.01).start()
    yield server
    server.stop()


def sse_payloads(response):
    return [line[6:] for line in response.iter_lines(decode_unicode=True) if line.startswith("data: ")]


def test_streams_echo_with_usage(upstream):
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi there"}]}
    response = requests.post(upstream.url + "/chat/completions", json=body, stream=True, timeout=5)
    payloads = sse_payloads(response)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Echo: hi there"
    assert chunks[-1]["usage"]["completion_tokens"] == 3


def test_bad_key_and_models(upstream):
    refused = requests.get(upstream.url + "/models", headers={"Authorization": "Bearer bad-key"}, timeout=5)
    assert refused.status_code == 401
    models = requests.get(upstream.url + "/models", headers={"Authorization": "Bearer ok"}, timeout=5).json()
    assert [m["id"] for m in models["data"]][:1] == ["fake-model-1"]


def test_reset_mid_stream_breaks_the_read(upstream):
    body = {"model": "fault-reset", "stream": True, "messages": [{"role": "user", "content": "a b c d e f"}]}
    response = requests.post(upstream.url + "/chat/completions", json=body, stream=True, timeout=5)
    with pytest.raises(requests.exceptions.RequestException):
        list(response.iter_lines())
