"""Monthly quotas: the admin sets them over HTTP, `check_quota` refuses a chat at the limit with
403 INSUFFICIENT_QUOTA, the user sees limit and use in `/api/stats`, and the month boundary resets it."""
from datetime import datetime, timedelta

import pytest

from chathub.errors import ApiError
from chathub.stats import service
from chathub.stats.usage_queries import month_start
from chathub.timeutil import utcnow
from tests.test_stats import add_usage, user_id_of


def set_quota(client, admin, user_id, **limits):
    """PUT the quota (asserting a 200); returns the quota data."""
    response = client.put(f"/api/admin/users/{user_id}/quota", json=limits, headers=admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def refusal(app, user_id, now=None):
    """The ApiError `check_quota` raises (None when the chat may start)."""
    with app.app_context():
        try:
            service.check_quota(user_id, now=now)
        except ApiError as error:
            return error
    return None


@pytest.fixture
def me(client, alice):
    """Alice's user id."""
    return user_id_of(client, alice)


def test_no_quota_never_refuses(app, me):
    add_usage(app, me, tokens=(10**6, 10**6), cost="1000")
    assert refusal(app, me) is None


def test_token_limit_refuses_once_reached(app, client, admin, me):
    quota = set_quota(client, admin, me, monthly_token_limit=1000)
    assert quota["monthly_token_limit"] == 1000 and quota["monthly_cost_limit"] is None
    add_usage(app, me, tokens=(400, 599))
    assert refusal(app, me) is None  # 999 of 1000: the next chat may still start
    add_usage(app, me, tokens=(1, 0))
    error = refusal(app, me)
    assert (error.status, error.code) == (403, "INSUFFICIENT_QUOTA")
    assert "1000 of 1000 tokens" in error.message and "resets" in error.message
    shown = client.get(f"/api/admin/users/{me}/quota", headers=admin).get_json()["data"]
    assert shown["exceeded"] is True and shown["tokens_used"] == 1000 and shown["tokens_remaining"] == 0


def test_cost_limit_refuses_once_reached(app, client, admin, me):
    set_quota(client, admin, me, monthly_cost_limit=0.5)
    add_usage(app, me, cost="0.49999999")
    assert refusal(app, me) is None
    add_usage(app, me, cost="0.00000001")
    error = refusal(app, me)
    assert error.code == "INSUFFICIENT_QUOTA" and "cost quota" in error.message
    body = ApiError.to_dict(error)
    assert body == {"success": False, "error": error.message, "code": "INSUFFICIENT_QUOTA"}


def test_quota_resets_at_the_utc_month_boundary(app, client, admin, me):
    set_quota(client, admin, me, monthly_token_limit=100)
    add_usage(app, me, tokens=(60, 40), at=datetime(2024, 1, 31, 23, 59, 59))
    assert refusal(app, me, now=datetime(2024, 1, 31, 23, 59, 59)).code == "INSUFFICIENT_QUOTA"
    assert refusal(app, me, now=datetime(2024, 2, 1, 0, 0, 0)) is None
    with app.app_context():
        february = service.quota_status(me, now=datetime(2024, 2, 1))
    assert february["tokens_used"] == 0 and february["resets_at"] == datetime(2024, 3, 1)


def test_last_months_use_does_not_count_now(app, client, admin, me):
    set_quota(client, admin, me, monthly_token_limit=100)
    add_usage(app, me, tokens=(500, 500), at=month_start(utcnow()) - timedelta(seconds=1))
    assert refusal(app, me) is None
    stats = client.get(f"/api/admin/users/{me}/quota", headers=admin).get_json()["data"]
    assert stats["tokens_used"] == 0 and stats["exceeded"] is False


def test_a_zero_limit_blocks_every_chat(app, client, admin, me):
    set_quota(client, admin, me, monthly_token_limit=0)
    assert refusal(app, me).code == "INSUFFICIENT_QUOTA"


def test_user_sees_quota_and_use_in_stats(app, client, admin, alice, me):
    set_quota(client, admin, me, monthly_token_limit=5000, monthly_cost_limit=2)
    add_usage(app, me, tokens=(1000, 500), cost="0.75")
    quota = client.get("/api/stats", headers=alice).get_json()["data"]["quota"]
    assert (quota["monthly_token_limit"], quota["monthly_cost_limit"]) == (5000, 2)
    assert (quota["tokens_used"], quota["tokens_remaining"]) == (1500, 3500)
    assert quota["cost_used"] == 0.75 and quota["cost_remaining"] == 1.25 and quota["exceeded"] is False
    assert quota["period"] == utcnow().strftime("%Y-%m") and quota["resets_at"].endswith("T00:00:00Z")


def test_put_changes_only_the_limits_it_names(client, admin, me):
    set_quota(client, admin, me, monthly_token_limit=100, monthly_cost_limit=3.25)
    kept = set_quota(client, admin, me, monthly_cost_limit=None)
    assert kept["monthly_token_limit"] == 100 and kept["monthly_cost_limit"] is None
    unchanged = set_quota(client, admin, me)
    assert unchanged["monthly_token_limit"] == 100


@pytest.mark.parametrize("body, field", [
    ({"monthly_token_limit": -1}, "monthly_token_limit"),
    ({"monthly_token_limit": "lots"}, "monthly_token_limit"),
    ({"monthly_token_limit": 1.5}, "monthly_token_limit"),
    ({"monthly_cost_limit": -0.01}, "monthly_cost_limit"),
    ({"monthly_cost_limit": "NaN"}, "monthly_cost_limit"),
])
def test_bad_limits_are_400(client, admin, me, body, field):
    response = client.put(f"/api/admin/users/{me}/quota", json=body, headers=admin)
    assert response.status_code == 400 and field in response.get_json()["details"]


def test_quota_endpoints_are_admin_only(client, alice, me, admin):
    path = f"/api/admin/users/{me}/quota"
    assert client.get(path).status_code == 401
    assert client.put(path, json={"monthly_token_limit": 1}).status_code == 401
    forbidden = client.put(path, json={"monthly_token_limit": 10**9}, headers=alice)
    assert forbidden.status_code == 403 and forbidden.get_json()["code"] == "FORBIDDEN"
    assert client.get(path, headers=alice).status_code == 403
    assert client.get(path, headers=admin).get_json()["data"]["monthly_token_limit"] is None


def test_unknown_user_is_404(client, admin):
    assert client.get("/api/admin/users/987654/quota", headers=admin).status_code == 404
    missing = client.put("/api/admin/users/987654/quota", json={"monthly_token_limit": 5}, headers=admin)
    assert missing.status_code == 404 and missing.get_json()["code"] == "NOT_FOUND"
