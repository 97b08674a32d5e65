"""The admin's view: 003's system statistics, usage across users (`/api/admin/usage`) and the per-user
`statistics` of `GET /api/admin/users` (a constant number of queries, whatever the page holds)."""
from datetime import timedelta

import pytest
from sqlalchemy import event

from chathub.catalog.models import Provider
from chathub.extensions import db
from chathub.keys.models import ApiKey
from chathub.stats.usage_queries import month_start
from chathub.timeutil import utcnow
from chathub.users.models import User
from tests.test_stats import add_conversation, add_usage, user_id_of


def admin_get(client, headers, path, **params):
    """An admin GET's data (asserting a 200)."""
    response = client.get(path, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def add_keys(app, owner_id, *specs):
    """API keys of `owner_id` as (provider_key, scope) pairs (providers created as needed)."""
    with app.app_context():
        for provider_key, scope in specs:
            if db.session.execute(db.select(Provider).filter_by(provider_key=provider_key)).scalar() is None:
                db.session.add(Provider(provider_key=provider_key, display_name=provider_key))
                db.session.flush()
            db.session.add(ApiKey(user_id=owner_id, model_provider=provider_key, scope=scope,
                                  api_key_encrypted="x", key_hint="sk-...abcd"))
        db.session.commit()


@pytest.mark.parametrize("path", ["/api/admin/statistics/system", "/api/admin/usage", "/api/admin/users"])
def test_admin_views_are_admin_only(client, alice, path):
    assert client.get(path).status_code == 401
    response = client.get(path, headers=alice)
    assert response.status_code == 403 and response.get_json()["code"] == "FORBIDDEN"


def test_system_statistics(app, client, admin, make_user):
    root = user_id_of(client, admin)
    alice, bob, carol, dave = (make_user(name) for name in ("alice", "bob", "carol", "dave"))
    client.put(f"/api/admin/users/{bob}/status", json={"is_active": False}, headers=admin)
    assert client.delete(f"/api/users/{carol}", headers=admin).status_code == 200
    now = utcnow()
    with app.app_context():
        db.session.get(User, dave).created_at = month_start(now) - timedelta(days=3)
        db.session.commit()
    add_keys(app, root, ("openai", "organization"), ("openai", "personal"), ("ollama", "organization"))
    add_keys(app, alice, ("deepseek", "personal"))
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = today - timedelta(days=today.weekday())
    add_conversation(app, alice, created_at=now)
    add_conversation(app, alice, created_at=week_start)
    add_conversation(app, bob, created_at=week_start - timedelta(seconds=1))
    add_usage(app, alice, tokens=(100, 100), cost="1.5", at=now)
    add_usage(app, bob, tokens=(1000, 0), cost="10", at=month_start(now) - timedelta(seconds=1))

    data = admin_get(client, admin, "/api/admin/statistics/system")
    # carol is soft-deleted; bob is disabled; dave joined last month.
    assert data["users"] == {"total": 4, "active": 3, "new_this_month": 3}
    assert data["providers"] == {"total": 4, "organization": 2, "personal": 2,
                                 "by_type": {"deepseek": 1, "ollama": 1, "openai": 2}}
    assert data["conversations"] == {"total": 3, "today": 2 if today == week_start else 1, "this_week": 2}
    assert data["usage"] == {"total_requests": 2, "total_tokens": 1200, "total_cost": 11.5,
                             "this_month_requests": 1, "this_month_tokens": 200, "this_month_cost": 1.5}


def test_admin_usage_covers_every_user_and_filters_by_one(app, client, admin, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    add_usage(app, alice, tokens=(10, 10), cost="0.2")
    add_usage(app, bob, tokens=(300, 300), cost="6", provider="deepseek")
    add_usage(app, bob, tokens=(5, 5), cost="0.1")
    everyone = admin_get(client, admin, "/api/admin/usage")
    assert everyone["summary"]["total_tokens"] == 630 and everyone["summary"]["total_requests"] == 3
    assert [(u["username"], u["tokens"]) for u in everyone["by_user"]] == [("bob", 610), ("alice", 20)]
    assert {p["provider_key"] for p in everyone["by_provider"]} == {"openai", "deepseek"}
    only_alice = admin_get(client, admin, "/api/admin/usage", user_id=alice)
    assert only_alice["summary"]["total_tokens"] == 20 and [u["username"] for u in only_alice["by_user"]] == ["alice"]
    bob_deepseek = admin_get(client, admin, "/api/admin/usage", user_id=bob, provider="deepseek", granularity="monthly")
    assert bob_deepseek["summary"]["total_cost"] == 6 and len(bob_deepseek["breakdown"]) == 12
    bad = client.get("/api/admin/usage", query_string={"user_id": "x", "start_date": "nope"}, headers=admin)
    assert bad.status_code == 400 and {"user_id", "start_date"} <= set(bad.get_json()["details"])


def test_admin_user_list_carries_each_users_statistics(app, client, admin, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    add_conversation(app, alice, messages=4)
    add_conversation(app, alice, messages=2)
    add_usage(app, alice, tokens=(1000, 500), cost="0.225")
    add_usage(app, bob, tokens=(1, 1), cost="0.001")
    page = admin_get(client, admin, "/api/admin/users", page=1, page_size=20)
    by_name = {u["username"]: u for u in page["items"]}
    assert by_name["alice"]["statistics"] == {"total_conversations": 2, "total_messages": 6, "total_tokens": 1500,
                                              "total_cost": 0.225}
    assert by_name["bob"]["statistics"]["total_tokens"] == 2 and by_name["bob"]["statistics"]["total_messages"] == 0
    assert by_name["root"]["statistics"]["total_cost"] == 0
    assert "password_hash" not in by_name["alice"] and by_name["alice"]["email"] == "alice@example.com"
    assert page["pagination"]["total"] == 3
    filtered = admin_get(client, admin, "/api/admin/users", search="ali", role="user", is_active="true")
    assert [u["username"] for u in filtered["items"]] == ["alice"]


def count_queries(app, client, headers, path):
    """How many SQL statements serving `path` runs."""
    statements = []
    with app.app_context():
        engine = db.engine

    def record(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path, headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_admin_user_list_statistics_are_not_one_query_per_user(app, client, admin, make_user):
    for index in range(2):
        add_usage(app, make_user(f"user{index}"), tokens=(1, 1))
    few = count_queries(app, client, admin, "/api/admin/users?page_size=50")
    for index in range(2, 12):
        user_id = make_user(f"user{index}")
        add_usage(app, user_id, tokens=(1, 1))
        add_conversation(app, user_id)
    many = count_queries(app, client, admin, "/api/admin/users?page_size=50")
    assert many == few
