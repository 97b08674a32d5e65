"""A browser is the user: headless Chromium on a static page (its own localhost port) logs in to a real
gunicorn-served ChatHub with a cookie, streams a chat with fetch + ReadableStream, and renders the tokens
as they arrive. Proves CORS with credentials and CSRF work, and that nothing between the upstream and the
page buffers the stream (the first token is on screen long before the slow upstream has finished).

Installs nothing: tests/support/install_test_deps.sh provides Debian's chromium + chromium-driver. Without
them the test is skipped locally, and fails under CI=true.
"""
import functools
import os
import shutil
import tempfile
import threading
from decimal import Decimal
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from chathub.extensions import db
from tests.conftest import PASSWORD
from tests.fake_upstream import FakeUpstream
from tests.support.served import ServedChatHub

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PAGE_DIR = Path(__file__).resolve().parent / "browser"
SLOW_DELAY = 0.3
MESSAGE = "tokens should arrive one by one"
REPLY = f"Echo: {MESSAGE}"
WORDS = len(REPLY.split(" "))  # the upstream sleeps SLOW_DELAY before each of them

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise RuntimeError(f"CI: {CHROMIUM} and {CHROMEDRIVER} are required (tests/support/install_test_deps.sh)")
    pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} missing: run tests/support/install_test_deps.sh as root",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402 - only once the browser is known to exist
from selenium.webdriver.chrome.service import Service  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class QuietPageHandler(SimpleHTTPRequestHandler):
    """Serves tests/browser/ without logging every request."""

    def log_message(self, *args):
        pass


@pytest.fixture
def page_server():
    """The static page on its own loopback port (another origin than ChatHub's); yields its origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietPageHandler, directory=str(PAGE_DIR)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def slow_upstream():
    """A fake upstream whose `fault-slow` model waits SLOW_DELAY before every word."""
    upstream = FakeUpstream(slow_delay=SLOW_DELAY).start()
    yield upstream
    upstream.stop()


@pytest.fixture
def browser():
    """Headless Debian Chromium driven by Debian's chromedriver (Selenium Manager never runs)."""
    profile = tempfile.mkdtemp(prefix="chathub-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(15)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def catalog_with_slow_model(app, user_id, upstream):
    """A provider at `upstream`, its `fault-slow` model and a personal key for the user."""
    from chathub.catalog.models import AiModel, Provider
    from chathub.keys.models import ApiKey
    from chathub.security import encrypt_secret, mask_secret

    with app.app_context():
        db.session.add(Provider(provider_key="browserfake", display_name="Browser fake",
                                default_base_url=upstream.url, is_active=True))
        db.session.flush()
        db.session.add(AiModel(model_name="fault-slow", display_name="Slow", model_provider="browserfake",
                               input_price_per_1k=Decimal("0.5"), output_price_per_1k=Decimal("1.5")))
        db.session.add(ApiKey(user_id=user_id, model_provider="browserfake", scope="personal",
                              api_key_encrypted=encrypt_secret("sk-browser-0000abcd"),
                              key_hint=mask_secret("sk-browser-0000abcd")))
        db.session.commit()


def stored_conversations(app, user_id):
    """[(role, content, status), ...] of each of the user's conversations."""
    from chathub.conversations.models import Conversation, Message

    with app.app_context():
        conversations = db.session.execute(select(Conversation.id).where(Conversation.user_id == user_id)).scalars()
        return [
            [(m.role, m.content, m.status) for m in db.session.execute(
                select(Message).where(Message.conversation_id == cid).order_by(Message.created_at)).scalars()]
            for cid in list(conversations)
        ]


def test_a_browser_on_another_origin_logs_in_with_a_cookie_and_sees_tokens_as_they_stream(
        app, database_url, make_user, page_server, slow_upstream, browser):
    user_id = make_user("alice")
    catalog_with_slow_model(app, user_id, slow_upstream)
    # The browser keeps idle keep-alive connections open: a short graceful timeout ends the server quickly.
    with ServedChatHub(database_url, CORS_ORIGINS=page_server, GUNICORN_GRACEFUL_TIMEOUT=1) as hub:
        browser.get(page_server + "/chat.html")
        result = browser.execute_async_script(
            "window.runChat(arguments[0]).then(arguments[arguments.length - 1]);",
            {"api": hub.url, "username": "alice", "password": PASSWORD, "message": MESSAGE, "model": "fault-slow"},
        )
        dom_text = browser.find_element("id", "reply").get_attribute("textContent")
        page_status = browser.find_element("id", "status").text
    assert "error" not in result, result.get("error")

    # CORS with cookies: the cross-origin login answered and was readable, and set an HttpOnly JWT cookie
    # (invisible to the page) next to the CSRF cookie the page must echo in a header.
    assert result["loginStatus"] == 200
    assert "csrf_access_token" in result["visibleCookies"] and "access_token_cookie" not in result["visibleCookies"]
    # The cookie is what authorised the stream: without it, or without the CSRF header, it is refused.
    assert result["withoutCookie"] == 401 and result["withoutCsrf"] in (401, 403)
    assert result["streamStatus"] == 200 and result["contentType"].startswith("text/event-stream")

    # The reply the upstream sent is on the page, whole, and the stream ended normally.
    kinds = [event["type"] for event in result["events"]]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("content") == WORDS
    assert dom_text == REPLY and page_status == "done" and result["timings"]["final"]["status"] == "complete"

    # Nothing buffered: the first word was on screen about one upstream delay after the request, and
    # the rest followed over the following delays, not all at once.
    timings = result["timings"]
    first, end = timings["firstContent"] / 1000, timings["end"] / 1000
    assert timings["domAtFirst"] == "Echo: "
    assert end >= WORDS * SLOW_DELAY * 0.9
    assert first < end - (WORDS - 2) * SLOW_DELAY, (first, end)
    arrivals = [event["at"] / 1000 for event in result["events"] if event["type"] == "content"]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert all(gap > SLOW_DELAY / 2 for gap in gaps), arrivals

    # Stored as the user saw it: only the authorised stream made a conversation.
    assert stored_conversations(app, user_id) == [[("user", MESSAGE, "complete"), ("assistant", REPLY, "complete")]]
