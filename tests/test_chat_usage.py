"""Chats feed usage statistics and obey quotas, end to end through the relay and the fake upstream."""
from decimal import Decimal

from chathub.extensions import db
from chathub.stats.models import UsageRecord
from tests.test_chat import collect

pytest_plugins = ["tests.test_chat"]  # its `chatter` fixture and generation clean-up


def usage_rows(app):
    with app.app_context():
        return db.session.execute(db.select(UsageRecord).order_by(UsageRecord.id)).scalars().all()


def test_every_chat_records_its_usage(client, app, chatter):
    user_id, headers = chatter()
    reply = client.post("/api/chat", json={"message": "one two three", "model": "fake-model-1"}, headers=headers)
    assert reply.status_code == 200
    stream = client.post("/api/chat/stream", json={"message": "four", "model": "fake-model-1"}, headers=headers)
    events = collect(stream)
    end = events[-1][1]
    assert end["type"] == "end"
    rows = usage_rows(app)
    assert len(rows) == 2 and {r.user_id for r in rows} == {user_id}
    last = rows[-1]
    assert last.status == "complete" and last.model_name == "fake-model-1" and last.provider_key == "fake"
    assert last.prompt_tokens == end["prompt_tokens"] and last.completion_tokens == end["completion_tokens"]
    assert Decimal(str(last.cost)) == Decimal(str(end["cost"])) and last.api_key_id is not None
    assert last.first_token_ms is not None and last.total_ms >= last.first_token_ms
    stats = client.get("/api/stats", headers=headers).get_json()["data"]
    assert stats["total_tokens"] == sum(r.prompt_tokens + r.completion_tokens for r in rows)


def test_a_chat_over_the_quota_is_refused_before_anything_is_stored(client, app, chatter, admin):
    user_id, headers = chatter()
    first = client.post("/api/chat", json={"message": "hello", "model": "fake-model-1"}, headers=headers)
    assert first.status_code == 200
    quota = client.put(f"/api/admin/users/{user_id}/quota", json={"monthly_token_limit": 1}, headers=admin)
    assert quota.status_code == 200, quota.get_json()
    before = client.get("/api/conversations", headers=headers).get_json()
    for path in ("/api/chat", "/api/chat/stream"):
        refused = client.post(path, json={"message": "again", "model": "fake-model-1"}, headers=headers)
        assert refused.status_code == 403 and refused.get_json()["code"] == "INSUFFICIENT_QUOTA"
    assert client.get("/api/conversations", headers=headers).get_json() == before
    assert len(usage_rows(app)) == 1
