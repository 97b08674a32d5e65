"""Sign-in, registration, tokens, cookies, revocation and the demo token."""
from datetime import timedelta

from chathub.extensions import db
from tests.conftest import PASSWORD, bearer, login, make_app


def test_login_by_username_answers_001_and_003_shapes(client, make_user):
    make_user("alice")
    body = login(client, "alice")
    assert body["success"] is True and body["ok"] is True
    assert body["token"] == body["access_token"] and body["token_type"] == "bearer"
    assert body["expires_in"] == 1800 and body["refresh_token"]
    assert body["user"]["username"] == "alice" and body["user"]["role"] == "user"
    assert "password_hash" not in body["user"] and PASSWORD not in str(body)
    assert body["data"]["access_token"] == body["token"]
    assert body["profile"]["role"] == "user"


def test_login_by_email_in_either_field(client, make_user):
    make_user("alice")
    assert client.post("/api/auth/login", json={"email": "alice@example.com", "password": PASSWORD}).status_code == 200
    by_email = client.post("/api/auth/login", json={"username": "ALICE@example.com", "password": PASSWORD})
    assert by_email.status_code == 200


def test_login_errors(client, make_user):
    make_user("alice")
    missing = client.post("/api/auth/login", json={"username": "alice"})
    assert missing.status_code == 400 and missing.get_json()["code"] == "VALIDATION_ERROR"
    assert "password" in missing.get_json()["details"]
    no_login = client.post("/api/auth/login", json={"password": "x"})
    assert no_login.status_code == 400
    wrong = client.post("/api/auth/login", json={"username": "alice", "password": "wrong-password"})
    assert wrong.status_code == 401 and wrong.get_json()["code"] == "INVALID_CREDENTIALS"
    unknown = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong-password"})
    assert unknown.status_code == 401 and unknown.get_json()["error"] == wrong.get_json()["error"]


def test_disabled_account_cannot_login_and_its_tokens_stop(client, make_user, admin):
    alice_id = make_user("alice")
    token = login(client, "alice")["token"]
    assert client.get("/api/auth/verify", headers=bearer(token)).status_code == 200
    disable = client.patch(f"/api/admin/users/{alice_id}/status", json={"action": "disable"}, headers=admin)
    assert disable.status_code == 200
    refused = client.get("/api/auth/verify", headers=bearer(token))
    assert refused.status_code == 403 and refused.get_json()["code"] == "ACCOUNT_DISABLED"
    again = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert again.status_code == 403 and again.get_json()["code"] == "ACCOUNT_DISABLED"


def test_register_then_me_verify_session(client):
    response = client.post(
        "/api/auth/register",
        json={"username": "newuser", "email": "user@example.com", "password": "password123",
              "confirm_password": "password123"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["data"]["user"]["username"] == "newuser" and body["data"]["token_type"] == "bearer"
    headers = bearer(body["token"])
    me = client.get("/api/auth/me", headers=headers).get_json()
    assert me["success"] and me["data"]["email"] == "user@example.com" and me["data"]["is_active"] is True
    verify = client.get("/api/auth/verify", headers=headers).get_json()
    assert verify["valid"] is True and verify["user"]["username"] == "newuser"
    session = client.get("/api/auth/session", headers=headers).get_json()
    assert session["authenticated"] is True and session["profile"]["role"] == "user"


def test_register_validation_and_conflicts(client, make_user):
    make_user("alice")
    taken = client.post(
        "/api/auth/register", json={"username": "alice", "email": "x@example.com", "password": PASSWORD}
    )
    assert taken.status_code == 409 and taken.get_json()["code"] == "USER_ALREADY_EXISTS"
    email_taken = client.post(
        "/api/auth/register", json={"username": "bob", "email": "ALICE@example.com", "password": PASSWORD}
    )
    assert email_taken.status_code == 409
    bad = client.post("/api/auth/register", json={"username": "a", "email": "not-an-email", "password": "short"})
    details = bad.get_json()["details"]
    assert bad.status_code == 400 and {"username", "email", "password"} <= set(details)
    mismatch = client.post(
        "/api/auth/register",
        json={"username": "bob", "email": "bob@example.com", "password": PASSWORD, "confirm_password": "other-pass"},
    )
    assert mismatch.status_code == 400 and "confirm_password" in mismatch.get_json()["details"]


def test_registration_can_be_switched_off(database_url, app):
    closed = make_app(database_url, CHATHUB_ALLOW_REGISTRATION=False).test_client()
    body = {"username": "bob", "email": "b@example.com", "password": PASSWORD}
    response = closed.post("/api/auth/register", json=body)
    assert response.status_code == 403 and response.get_json()["code"] == "FORBIDDEN"


def test_session_when_signed_out_is_never_401(client):
    assert client.get("/api/auth/session").get_json() == {"authenticated": False}
    broken = client.get("/api/auth/session", headers=bearer("not.a.jwt"))
    assert broken.status_code == 200 and broken.get_json() == {"authenticated": False}


def test_protected_endpoints_need_a_valid_token(client):
    missing = client.get("/api/auth/me")
    assert missing.status_code == 401 and missing.get_json()["code"] == "UNAUTHORIZED"
    garbage = client.get("/api/auth/me", headers=bearer("garbage"))
    assert garbage.status_code == 401 and garbage.get_json()["success"] is False


def test_expired_token_is_token_expired(client, app, make_user):
    from flask_jwt_extended import create_access_token

    user_id = make_user("alice")
    with app.app_context():
        token = create_access_token(str(user_id), additional_claims={"ver": 0}, expires_delta=timedelta(seconds=-5))
    response = client.get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 401 and response.get_json()["code"] == "TOKEN_EXPIRED"


def test_logout_revokes_the_token_at_once(client, make_user):
    make_user("alice")
    body = login(client, "alice")
    headers = bearer(body["token"])
    out = client.post("/api/auth/logout", headers=headers, json={"refresh_token": body["refresh_token"]})
    assert out.status_code == 200 and out.get_json()["success"] is True
    after = client.get("/api/auth/me", headers=headers)
    assert after.status_code == 401 and "revoked" in after.get_json()["error"].lower()
    refresh = client.post("/api/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert refresh.status_code == 401


def test_revocation_is_shared_by_another_app_instance(client, make_user, database_url, app):
    make_user("alice")
    headers = bearer(login(client, "alice")["token"])
    other = make_app(database_url).test_client()
    assert other.get("/api/auth/me", headers=headers).status_code == 200
    client.post("/api/auth/logout", headers=headers)
    assert other.get("/api/auth/me", headers=headers).status_code == 401


def test_refresh_by_body_and_header(client, make_user):
    make_user("alice")
    body = login(client, "alice")
    by_body = client.post("/api/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert by_body.status_code == 200
    new_token = by_body.get_json()["data"]["access_token"]
    assert client.get("/api/auth/me", headers=bearer(new_token)).status_code == 200
    by_header = client.post("/api/auth/refresh", headers=bearer(body["refresh_token"]))
    assert by_header.status_code == 200 and by_header.get_json()["expires_in"] == 1800
    access_as_refresh = client.post("/api/auth/refresh", json={"refresh_token": body["token"]})
    assert access_as_refresh.status_code == 401


def test_cookie_login_works_and_writes_need_csrf(client, make_user):
    make_user("alice")
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    cookie = client.get_cookie("access_token_cookie")
    assert cookie is not None and cookie.http_only
    assert client.get("/api/auth/me").get_json()["data"]["username"] == "alice"
    no_csrf = client.put("/api/users/profile", json={"model_preference": "gpt-4o"})
    assert no_csrf.status_code == 401 and "CSRF" in no_csrf.get_json()["error"]
    csrf = client.get_cookie("csrf_access_token").value
    ok = client.put("/api/users/profile", json={"model_preference": "gpt-4o"}, headers={"X-CSRF-TOKEN": csrf})
    assert ok.status_code == 200 and ok.get_json()["data"]["model_preference"] == "gpt-4o"
    client.post("/api/auth/logout", headers={"X-CSRF-TOKEN": csrf})
    assert client.get("/api/auth/me").status_code == 401


def test_admin_register_is_admin_only(client, alice, admin):
    body = {"username": "carol", "email": "carol@example.com", "password": PASSWORD, "role": "admin"}
    assert client.post("/api/auth/admin/register", json=body).status_code == 401
    forbidden = client.post("/api/auth/admin/register", json=body, headers=alice)
    assert forbidden.status_code == 403 and forbidden.get_json()["code"] == "FORBIDDEN"
    created = client.post("/api/auth/admin/register", json=body, headers=admin)
    assert created.status_code == 201 and created.get_json()["data"]["role"] == "admin"
    assert login(client, "carol")["user"]["role"] == "admin"


def test_demo_token_off_by_default(client):
    assert client.get("/api/auth/me", headers=bearer("demo-token")).status_code == 401


def test_demo_token_acts_as_demo_user_when_configured(database_url, app):
    demo = make_app(database_url, CHATHUB_DEMO_TOKEN="demo-token").test_client()
    response = demo.get("/api/auth/me", headers=bearer("demo-token"))
    assert response.status_code == 200 and response.get_json()["data"]["username"] == "demo"
    assert demo.get("/api/auth/me", headers=bearer("other-token")).status_code == 401


def test_password_reset_ends_existing_sessions(client, make_user, admin):
    alice_id = make_user("alice")
    headers = bearer(login(client, "alice")["token"])
    reset = client.post(f"/api/users/{alice_id}/reset-password", json={"new_password": "brand-new-pass"}, headers=admin)
    assert reset.status_code == 200
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert login(client, "alice", "brand-new-pass")["success"]


def test_revoked_tokens_are_purged_after_expiry(app, client, make_user):
    from chathub.auth.models import RevokedToken
    from chathub.auth.service import purge_expired_revocations
    from chathub.timeutil import utcnow

    with app.app_context():
        db.session.add(RevokedToken(jti="old", expires_at=utcnow() - timedelta(days=1)))
        db.session.add(RevokedToken(jti="new", expires_at=utcnow() + timedelta(days=1)))
        db.session.commit()
        assert purge_expired_revocations() == 1
        assert db.session.get(RevokedToken, "new") is not None
    result = app.test_cli_runner().invoke(args=["chathub", "purge-revoked"])
    assert result.exit_code == 0 and "Purged 0 expired" in result.output
