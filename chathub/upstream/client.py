"""The one HTTP client for OpenAI-compatible upstreams (requests).

One pooled `Session` per process (two, in fact: a guarded one whose connections refuse private
addresses, for credentials whose URL a non-admin chose, and a trusted one). Explicit connect/read
timeouts from UPSTREAM_CONNECT_TIMEOUT / UPSTREAM_READ_TIMEOUT, a ChatHub User-Agent, no redirects,
no proxy/netrc from the environment. Every failure becomes an `ApiError` whose message never holds
the API key.
"""
import logging
import threading
from urllib.parse import urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from chathub.errors import ApiError
from chathub.upstream.urlguard import BlockedUpstream, check_host, check_peer

log = logging.getLogger(__name__)

ERROR_BODY_LIMIT = 64 * 1024
MESSAGE_LIMIT = 300
KEY_REJECTED = "The provider rejected the API key"
# Idle keep-alive connections kept per upstream host. A worker holds up to ~2,000 streams, so a
# small pool would close (and later reopen) most connections after every burst of chats.
POOL_CONNECTIONS = 16
POOL_MAXSIZE = 1024


def _checked(sock):
    try:
        check_peer(sock.getpeername()[0])
    except BlockedUpstream:
        sock.close()
        raise
    return sock


class GuardedHTTPConnection(HTTPConnection):
    """An HTTP connection that refuses to talk to a private address it reached."""

    def _new_conn(self):
        return _checked(super()._new_conn())


class GuardedHTTPSConnection(HTTPSConnection):
    """An HTTPS connection that refuses to talk to a private address it reached."""

    def _new_conn(self):
        return _checked(super()._new_conn())


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    """Pool of guarded HTTP connections."""

    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    """Pool of guarded HTTPS connections."""

    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose pools check the peer address of every new connection."""

    def init_poolmanager(self, *args, **kwargs):
        """Install the guarded pool classes."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }


_sessions = {}
_sessions_lock = threading.Lock()


def _new_session(guarded):
    from chathub import __version__

    session = requests.Session()
    session.trust_env = False  # no proxies or netrc from the environment: the URL policy must hold
    session.headers["User-Agent"] = f"ChatHub/{__version__}"
    adapter_class = GuardedAdapter if guarded else HTTPAdapter
    adapter = adapter_class(pool_connections=POOL_CONNECTIONS, pool_maxsize=POOL_MAXSIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def session_for(private_allowed):
    """This process's pooled session (the guarded one unless private addresses are allowed)."""
    guarded = not private_allowed
    session = _sessions.get(guarded)
    if session is None:
        with _sessions_lock:
            session = _sessions.setdefault(guarded, _new_session(guarded))
    return session


def timeouts():
    """(connect, read) timeouts in seconds from the settings."""
    config = current_app.config
    return float(config["UPSTREAM_CONNECT_TIMEOUT"]), float(config["UPSTREAM_READ_TIMEOUT"])


def scrub(text, credential):
    """`text` without the API key in it (providers sometimes echo part of it) and bounded in length."""
    text = " ".join(str(text or "").split())
    key = credential.api_key
    if key:
        text = text.replace(key, "[redacted]")
        if len(key) >= 12:
            text = text.replace(key[:-4], "[redacted]")
    return text[:MESSAGE_LIMIT]


def upstream_message(response, credential):
    """The provider's error message from a non-2xx response, scrubbed."""
    try:
        raw = response.raw.read(ERROR_BODY_LIMIT, decode_content=True) if response.raw else b""
    except Exception:  # noqa: BLE001 - a broken error body still deserves a clear error
        raw = b""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    message = ""
    try:
        import json

        body = json.loads(text)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = error.get("message") or ""
        elif isinstance(error, str):
            message = error
        elif isinstance(body, dict):
            message = body.get("message") or body.get("detail") or ""
    except ValueError:
        message = text
    return scrub(message, credential) or response.reason or "no message"


def failure(response, credential):
    """The ApiError for a non-2xx upstream answer."""
    status = response.status_code
    if status in (401, 403):
        response.close()
        return ApiError(502, "AI_API_ERROR",
                        f"{KEY_REJECTED} (HTTP {status}); check the key for {credential.provider_key}")
    message = upstream_message(response, credential)
    response.close()
    if 300 <= status < 400:
        return ApiError(502, "AI_API_ERROR",
                        f"The provider answered with a redirect (HTTP {status}); check the base URL")
    return ApiError(502, "AI_API_ERROR", f"The provider answered HTTP {status}: {message}")


def send(credential, method, path, payload=None, stream=False):
    """One request to `{base_url}{path}`; the response on 2xx, else an ApiError (never the key)."""
    url = credential.base_url.rstrip("/") + path
    host = urlsplit(url).netloc
    headers = {"Accept": "text/event-stream" if stream else "application/json"}
    if credential.api_key:
        headers["Authorization"] = f"Bearer {credential.api_key}"
    try:
        if not credential.private_allowed:
            check_host(url)
        response = session_for(credential.private_allowed).request(
            method, url, json=payload, headers=headers, stream=True, timeout=timeouts(), allow_redirects=False
        )
    except BlockedUpstream as exc:
        message = f"{exc}; only an administrator may use such a base URL"
        raise ApiError(403, "PROVIDER_NOT_ACCESSIBLE", message) from None
    except requests.exceptions.Timeout:
        log.warning("upstream %s timed out (%s %s)", credential.provider_key, method, host)
        raise ApiError(504, "UPSTREAM_TIMEOUT", f"The provider at {host} did not answer in time") from None
    except requests.exceptions.RequestException as exc:
        log.warning("upstream %s unreachable (%s %s): %s", credential.provider_key, method, host, type(exc).__name__)
        raise ApiError(502, "AI_API_ERROR", f"Could not connect to the provider at {host}") from None
    if not 200 <= response.status_code < 300:
        log.warning("upstream %s answered %s (%s %s)", credential.provider_key, response.status_code, method, host)
        raise failure(response, credential)
    return response


def read_json(response, credential):
    """The JSON body of a 2xx response (502 when it is not JSON)."""
    try:
        return response.json()
    except requests.exceptions.Timeout:
        raise ApiError(504, "UPSTREAM_TIMEOUT", "The provider stopped answering mid-response") from None
    except (ValueError, requests.exceptions.RequestException):
        raise ApiError(502, "AI_API_ERROR", "The provider answered with something that is not JSON") from None
    finally:
        response.close()


def open_chat_stream(credential, payload):
    """POST {base_url}/chat/completions streamed; the open 2xx response (the caller reads and closes it)."""
    return send(credential, "POST", "/chat/completions", payload, stream=True)


def chat_completion(credential, payload):
    """POST {base_url}/chat/completions, not streamed; the provider's JSON answer."""
    return read_json(send(credential, "POST", "/chat/completions", payload), credential)


def list_models(credential):
    """GET {base_url}/models: the model ids the provider offers, in its order, without duplicates."""
    body = read_json(send(credential, "GET", "/models"), credential)
    entries = body.get("data", body.get("models", [])) if isinstance(body, dict) else body
    ids = []
    for entry in entries if isinstance(entries, list) else []:
        model_id = entry.get("id") or entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(model_id, str) and model_id and model_id not in ids:
            ids.append(model_id)
    return ids
