"""001's /api/users: admin management and each user's profile."""
from tests.conftest import PASSWORD, bearer, login


def test_list_users_is_admin_only_with_pagination_search_and_role(client, make_user, alice, admin):
    for i in range(12):
        make_user(f"user{i:02d}")
    assert client.get("/api/users").status_code == 401
    assert client.get("/api/users", headers=alice).status_code == 403
    first = client.get("/api/users", headers=admin).get_json()["data"]
    assert len(first["items"]) == 10 and first["pagination"]["total"] == 14
    assert first["pagination"]["has_next"] is True and first["pagination"]["total_pages"] == 2
    second = client.get("/api/users?page=2&per_page=10", headers=admin).get_json()["data"]
    assert len(second["items"]) == 4 and second["pagination"]["has_prev"] is True
    found = client.get("/api/users?search=USER0", headers=admin).get_json()["data"]["items"]
    assert sorted(u["username"] for u in found) == [f"user{i:02d}" for i in range(10)]
    admins = client.get("/api/users?role=admin", headers=admin).get_json()["data"]["items"]
    assert [u["username"] for u in admins] == ["root"]
    bad = client.get("/api/users?role=wizard&per_page=1000", headers=admin)
    assert bad.status_code == 400 and {"role", "per_page"} <= set(bad.get_json()["details"])


def test_get_update_user(client, make_user, admin):
    bob = make_user("bob")
    got = client.get(f"/api/users/{bob}", headers=admin).get_json()["data"]
    assert got["username"] == "bob" and "password_hash" not in got
    updated = client.put(f"/api/users/{bob}", json={"role": "admin", "subscription_type": "premium"}, headers=admin)
    assert updated.status_code == 200 and updated.get_json()["data"]["role"] == "admin"
    assert client.get("/api/users/99999", headers=admin).status_code == 404
    conflict = client.put(f"/api/users/{bob}", json={"username": "root"}, headers=admin)
    assert conflict.status_code == 409


def test_delete_is_soft_and_never_on_oneself(client, make_user, admin):
    bob = make_user("bob")
    token = login(client, "bob")["token"]
    assert client.delete(f"/api/users/{bob}", headers=admin).status_code == 200
    kept = client.get(f"/api/users/{bob}", headers=admin).get_json()["data"]
    assert kept["is_active"] is False and kept["deleted_at"]
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    refused = client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    assert refused.status_code == 403 and refused.get_json()["code"] == "ACCOUNT_DISABLED"
    me = client.get("/api/users/profile", headers=admin).get_json()["data"]["id"]
    assert client.delete(f"/api/users/{me}", headers=admin).status_code == 400


def test_reset_password_generates_one_when_not_given(client, make_user, admin):
    bob = make_user("bob")
    body = client.post(f"/api/users/{bob}/reset-password", json={}, headers=admin).get_json()
    assert body["success"] and len(body["temporary_password"]) >= 12
    assert login(client, "bob", body["temporary_password"])["user"]["username"] == "bob"
    too_short = client.post(f"/api/users/{bob}/reset-password", json={"new_password": "x"}, headers=admin)
    assert too_short.status_code == 400


def test_profile_get_and_update(client, make_user, alice):
    make_user("bob")
    profile = client.get("/api/users/profile", headers=alice).get_json()["data"]
    assert profile["username"] == "alice"
    changed = client.put("/api/users/profile", json={"email": "new@example.com", "role": "admin"}, headers=alice)
    assert changed.status_code == 200
    data = changed.get_json()["data"]
    assert data["email"] == "new@example.com" and data["role"] == "user"
    assert client.put("/api/users/profile", json={"username": "bob"}, headers=alice).status_code == 409


def test_profile_password_change_needs_current_password(client, alice):
    no_current = client.put("/api/users/profile", json={"new_password": "another-pass"}, headers=alice)
    assert no_current.status_code == 400 and "current_password" in no_current.get_json()["details"]
    wrong = client.put("/api/users/profile", json={"new_password": "another-pass", "current_password": "nope"},
                       headers=alice)
    assert wrong.status_code == 400
    ok = client.put("/api/users/profile", json={"new_password": "another-pass", "current_password": PASSWORD},
                    headers=alice)
    assert ok.status_code == 200
    assert login(client, "alice", "another-pass")["success"]
