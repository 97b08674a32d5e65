"""Runtime configuration (`/api/config`, 002): admin only, validated, and applied without a restart."""
import pytest

from tests.conftest import make_app

DEFAULTS = {"allow_registration": True, "default_model": None, "default_max_history": 20,
            "rate_limit_default": "10000 per minute", "rate_limit_login": "10 per minute"}


def register(client, name):
    return client.post("/api/auth/register", json={"username": name, "email": f"{name}@example.com",
                                                   "password": "password123"})


def test_admin_reads_the_effective_settings(client, admin):
    response = client.get("/api/config", headers=admin)
    assert response.status_code == 200
    assert response.get_json() == {"success": True, "data": DEFAULTS, "message": "OK"}


def test_only_admins(client, alice):
    assert client.get("/api/config").status_code == 401
    assert client.get("/api/config", headers=alice).status_code == 403
    assert client.put("/api/config", headers=alice, json={"allow_registration": False}).status_code == 403
    assert client.put("/api/config", json={"allow_registration": False}).status_code == 401


def test_update_and_reset(client, admin):
    changed = client.put("/api/config", headers=admin, json={
        "default_model": " fake-model-2 ", "default_max_history": 6, "rate_limit_login": "5/minute;20/hour",
    })
    assert changed.status_code == 200
    assert changed.get_json()["data"] == {**DEFAULTS, "default_model": "fake-model-2", "default_max_history": 6,
                                          "rate_limit_login": "5/minute;20/hour"}
    assert client.get("/api/config", headers=admin).get_json()["data"]["default_max_history"] == 6
    reset = client.put("/api/config", headers=admin, json={"default_model": None, "default_max_history": None,
                                                           "rate_limit_login": None})
    assert reset.get_json()["data"] == DEFAULTS
    assert client.put("/api/config", headers=admin, json={}).get_json()["data"] == DEFAULTS


@pytest.mark.parametrize("body, field", [
    ({"allow_registration": "perhaps"}, "allow_registration"),
    ({"default_max_history": 0}, "default_max_history"),
    ({"default_max_history": 1001}, "default_max_history"),
    ({"default_max_history": "ten"}, "default_max_history"),
    ({"default_model": "m" * 201}, "default_model"),
    ({"rate_limit_default": "lots"}, "rate_limit_default"),
    ({"rate_limit_default": "0 per minute"}, "rate_limit_default"),
    ({"rate_limit_login": "5 per fortnight"}, "rate_limit_login"),
])
def test_invalid_settings_are_400_and_change_nothing(client, admin, body, field):
    response = client.put("/api/config", headers=admin, json={"default_max_history": 7, **body})
    assert response.status_code == 400 and field in response.get_json()["details"]
    assert client.get("/api/config", headers=admin).get_json()["data"] == DEFAULTS


def test_closing_registration_applies_at_once_on_every_instance(client, admin, database_url, app):
    other_instance = make_app(database_url).test_client()
    assert register(other_instance, "early").status_code == 201
    client.put("/api/config", headers=admin, json={"allow_registration": False})
    refused = register(other_instance, "late")
    assert refused.status_code == 403 and "closed" in refused.get_json()["error"].lower()
    client.put("/api/config", headers=admin, json={"allow_registration": True})
    assert register(client, "later").status_code == 201


def test_rate_limits_apply_without_restart(client, admin, alice):
    assert client.put("/api/config", headers=admin, json={"rate_limit_default": "3 per minute"}).status_code == 200
    statuses = [client.get("/api/presets", headers=alice).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/presets", headers=alice)
    assert limited.get_json()["code"] == "RATE_LIMITED" and "Retry-After" in limited.headers
    assert client.put("/api/config", headers=admin, json={"rate_limit_default": None}).status_code == 200
    assert client.get("/api/presets", headers=alice).status_code == 200


def test_login_limit_applies_without_restart(client, admin, make_user):
    make_user("carol")
    client.put("/api/config", headers=admin, json={"rate_limit_login": "2 per minute"})
    attempts = [client.post("/api/auth/login", json={"username": "carol", "password": "wrong-password"}).status_code
                for _ in range(3)]
    assert attempts == [401, 401, 429]


def test_an_admin_can_always_undo_a_too_low_limit(client, admin):
    client.put("/api/config", headers=admin, json={"rate_limit_default": "1 per hour"})
    assert client.get("/api/presets", headers=admin).status_code == 200
    assert client.get("/api/presets", headers=admin).status_code == 429
    assert client.get("/api/config", headers=admin).status_code == 200
    assert client.put("/api/config", headers=admin, json={"rate_limit_default": None}).status_code == 200
    assert client.get("/api/presets", headers=admin).status_code == 200
