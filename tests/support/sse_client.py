"""Reading ChatHub's SSE over real sockets (requests with `stream=True`), for tests against served instances."""
import json
import time

import requests

from tests.conftest import PASSWORD


def sign_in(hub, username):
    """Bearer headers for `username` signed in on instance `hub`."""
    response = requests.post(hub.url + "/api/auth/login", json={"username": username, "password": PASSWORD},
                             timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


class EventReader:
    """Reads (id, payload) events from one response as they arrive, across several calls (the events
    after a partial read are not lost); comments (keep-alives) are skipped."""

    def __init__(self, response):
        self.response = response
        self.chunks = response.iter_content(chunk_size=None)
        self.buffer = ""

    def __iter__(self):
        while True:
            while "\n\n" in self.buffer:
                block, self.buffer = self.buffer.split("\n\n", 1)
                if block.startswith(":"):
                    continue
                fields = dict(line.split(": ", 1) for line in block.split("\n"))
                yield int(fields["id"]), json.loads(fields["data"])
            chunk = next(self.chunks, None)
            if chunk is None:
                return
            self.buffer += chunk.decode()

    def until(self, contents):
        """The events up to and including the `contents`-th content event (the stream stays open)."""
        events = []
        for event in self:
            events.append(event)
            if sum(1 for _, payload in events if payload["type"] == "content") >= contents:
                break
        return events

    def rest(self):
        """Every remaining event, to the end of the response."""
        return list(self)


def read_events(response):
    """Every event of a response, to its end."""
    return EventReader(response).rest()


def text_of(events):
    """The reply text carried by `content` events."""
    return "".join(payload["content"] for _, payload in events if payload["type"] == "content")


def start_stream(hub, headers, message, model="fault-slow"):
    """Open `POST /api/chat/stream` on `hub` (the response is read incrementally)."""
    response = requests.post(hub.url + "/api/chat/stream", json={"message": message, "model": model},
                             headers=headers, stream=True, timeout=30)
    assert response.status_code == 200, response.text
    return response


def wait_until(predicate, timeout=10.0, interval=0.05):
    """Poll `predicate` until it is truthy (returning its value); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


def stored_messages(hub, headers, conversation_id):
    """A conversation's messages as instance `hub` shows them."""
    response = requests.get(f"{hub.url}/api/conversations/{conversation_id}/messages", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["data"]
