"""Flask-Limiter: per-user default limit, stricter login limit per client and per account, 429 envelope."""
from tests.conftest import PASSWORD, bearer, login, make_app


def test_default_limit_is_per_user_with_retry_after(database_url, app, make_user):
    make_user("alice")
    make_user("bob")
    tight = make_app(database_url, RATELIMIT_DEFAULT="3 per minute")
    client = tight.test_client()
    alice = bearer(login(tight.test_client(), "alice")["token"])
    bob = bearer(login(tight.test_client(), "bob")["token"])
    assert [client.get("/api/auth/me", headers=alice).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/api/auth/me", headers=alice)
    body = limited.get_json()
    assert limited.status_code == 429 and body["code"] == "RATE_LIMITED" and body["success"] is False
    assert int(limited.headers["Retry-After"]) > 0
    # alice from another address is still alice; bob has his own budget
    other_ip = client.get("/api/auth/me", headers=alice, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other_ip.status_code == 429
    assert client.get("/api/auth/me", headers=bob).status_code == 200


def test_anonymous_requests_count_per_address(database_url, app):
    tight = make_app(database_url, RATELIMIT_DEFAULT="2 per minute").test_client()
    statuses = [tight.get("/api/auth/session").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert tight.get("/api/auth/session", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 200


def test_login_limit_per_client(database_url, app, make_user):
    make_user("alice")
    tight = make_app(database_url, RATELIMIT_LOGIN="2 per minute").test_client()
    attempts = [tight.post("/api/auth/login", json={"username": "alice", "password": "wrong-one"}).status_code
                for _ in range(3)]
    assert attempts == [401, 401, 429]


def test_login_limit_per_account_across_addresses(database_url, app, make_user):
    make_user("alice")
    tight = make_app(database_url, RATELIMIT_LOGIN="2 per minute").test_client()
    codes = []
    for i in range(3):
        response = tight.post("/api/auth/login", json={"username": "alice", "password": "wrong-one"},
                              environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
        codes.append(response.status_code)
    assert codes == [401, 401, 429]
    other = tight.post("/api/auth/login", json={"username": "bob", "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 401
