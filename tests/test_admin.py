"""000's and 003's /api/admin user management."""
from tests.conftest import bearer, login


def test_000_create_user_by_email(client, alice, admin):
    body = {"email": "new@example.com", "password": "at-least-8-chars"}
    assert client.post("/api/admin/users", json=body, headers=alice).status_code == 403
    created = client.post("/api/admin/users", json=body, headers=admin)
    assert created.status_code == 201
    data = created.get_json()
    assert data["ok"] is True and data["user"]["email"] == "new@example.com" and data["user"]["role"] == "user"
    signed_in = client.post("/api/auth/login", json={"email": "new@example.com", "password": "at-least-8-chars"})
    assert signed_in.status_code == 200
    again = client.post("/api/admin/users", json=body, headers=admin)
    assert again.status_code == 409 and again.get_json()["code"] == "USER_ALREADY_EXISTS"
    short = client.post("/api/admin/users", json={"email": "x@example.com", "password": "short"}, headers=admin)
    assert short.status_code == 400 and "password" in short.get_json()["details"]


def test_000_status_disable_enable_and_self_protection(client, make_user, admin):
    bob = make_user("bob")
    token = login(client, "bob")["token"]
    disabled = client.patch(f"/api/admin/users/{bob}/status", json={"action": "disable"}, headers=admin)
    assert disabled.status_code == 200
    assert disabled.get_json() == {"ok": True, "success": True, "message": "Status updated"}
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 403
    client.patch(f"/api/admin/users/{bob}/status", json={"action": "enable"}, headers=admin)
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    me = client.get("/api/auth/me", headers=admin).get_json()["data"]["id"]
    own = client.patch(f"/api/admin/users/{me}/status", json={"action": "disable"}, headers=admin)
    assert own.status_code == 400 and client.get("/api/auth/me", headers=admin).status_code == 200
    bad = client.patch(f"/api/admin/users/{bob}/status", json={"action": "delete"}, headers=admin)
    assert bad.status_code == 400 and "action" in bad.get_json()["details"]
    assert client.patch("/api/admin/users/424242/status", json={"action": "disable"}, headers=admin).status_code == 404


def test_003_status_with_reason(client, make_user, admin):
    bob = make_user("bob")
    response = client.put(f"/api/admin/users/{bob}/status", json={"is_active": False, "reason": "terms"}, headers=admin)
    data = response.get_json()["data"]
    assert response.status_code == 200 and data["is_active"] is False and data["disabled_reason"] == "terms"
    back = client.put(f"/api/admin/users/{bob}/status", json={"is_active": True}, headers=admin).get_json()["data"]
    assert back["is_active"] is True and back["disabled_reason"] is None


def test_003_admin_user_list_filters(client, make_user, admin):
    make_user("bob")
    make_user("carol", active=False)
    page = client.get("/api/admin/users?page=1&page_size=20&is_active=false", headers=admin).get_json()["data"]
    assert [u["username"] for u in page["items"]] == ["carol"]
    assert page["pagination"]["page_size"] == 20
    by_search = client.get("/api/admin/users?search=bo", headers=admin).get_json()["data"]["items"]
    assert [u["username"] for u in by_search] == ["bob"]
