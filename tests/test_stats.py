"""001's `GET /api/stats` and the usage recording the chat relay relies on (`record_usage`).

`add_usage` and `add_conversation` build data for the other statistics tests too."""
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from chathub.conversations.models import Conversation, Message
from chathub.extensions import db
from chathub.stats import service
from chathub.stats.models import UsageRecord
from chathub.timeutil import utcnow


def add_usage(app, user_id, tokens=(10, 20), cost="0.01", at=None, model="gpt-test", provider="openai",
              message_id=None, conversation_id=None, status="complete", first_token_ms=100, total_ms=500):
    """Record one completion for `user_id` (at `at`, default now) through the service; returns its id."""
    with app.app_context():
        record = service.record_usage(
            user_id=user_id, conversation_id=conversation_id, message_id=message_id, model_name=model,
            model_id=None, provider_key=provider, api_key_id=None, prompt_tokens=tokens[0],
            completion_tokens=tokens[1], cost=None if cost is None else Decimal(cost),
            first_token_ms=first_token_ms, total_ms=total_ms, status=status, created_at=at,
        )
        return record.id


def add_conversation(app, user_id, messages=2, created_at=None):
    """A conversation of `user_id` holding `messages` messages; returns its id."""
    with app.app_context():
        conversation = Conversation(user_id=user_id, title="t", created_at=created_at or utcnow())
        db.session.add(conversation)
        db.session.flush()
        for index in range(messages):
            db.session.add(Message(conversation_id=conversation.id, role="user" if index % 2 == 0 else "assistant",
                                   content=f"m{index}"))
        db.session.commit()
        return conversation.id


def user_id_of(client, headers):
    """The id of the user these headers sign in."""
    return client.get("/api/auth/me", headers=headers).get_json()["data"]["id"]


def test_stats_needs_a_signed_in_user(client):
    response = client.get("/api/stats")
    assert response.status_code == 401 and response.get_json()["code"] == "UNAUTHORIZED"


def test_new_user_sees_zeros_and_no_quota(client, alice):
    data = client.get("/api/stats", headers=alice).get_json()["data"]
    assert data["total_conversations"] == 0 and data["total_messages"] == 0
    assert data["total_tokens"] == 0 and data["total_cost"] == 0 and data["by_model"] == []
    assert data["quota"]["monthly_token_limit"] is None and data["quota"]["exceeded"] is False


def test_totals_per_model_and_only_the_callers(app, client, alice, user_headers):
    bob_headers = user_headers("bob")
    me, bob = user_id_of(client, alice), user_id_of(client, bob_headers)
    add_conversation(app, me, messages=3)
    add_conversation(app, me, messages=1)
    add_conversation(app, bob, messages=5)
    add_usage(app, me, tokens=(100, 50), cost="0.0015", model="gpt-a")
    add_usage(app, me, tokens=(10, 5), cost="0.0002", model="gpt-a")
    add_usage(app, me, tokens=(1, 1), cost="0.1", model="claude-b", provider="anthropic")
    add_usage(app, bob, tokens=(9999, 9999), cost="99", model="gpt-a")

    response = client.get("/api/stats", headers=alice)
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert (data["total_conversations"], data["total_messages"]) == (2, 4)
    assert (data["total_requests"], data["total_tokens"]) == (3, 167)
    assert (data["prompt_tokens"], data["completion_tokens"]) == (111, 56)
    assert data["total_cost"] == pytest.approx(0.1017)
    by_model = {m["model"]: m for m in data["by_model"]}
    assert set(by_model) == {"gpt-a", "claude-b"}
    assert by_model["gpt-a"]["requests"] == 2 and by_model["gpt-a"]["tokens"] == 165
    assert by_model["gpt-a"]["cost"] == pytest.approx(0.0017) and by_model["claude-b"]["provider_key"] == "anthropic"
    assert data["this_month"] == {"requests": 3, "tokens": 167, "cost": pytest.approx(0.1017)}

    other = client.get("/api/stats", headers=bob_headers).get_json()["data"]
    assert (other["total_conversations"], other["total_messages"], other["total_tokens"]) == (1, 5, 19998)


def test_usage_is_kept_when_the_conversation_is_deleted(app, client, alice):
    me = user_id_of(client, alice)
    conversation_id = add_conversation(app, me, messages=2)
    add_usage(app, me, tokens=(30, 70), cost="0.5", conversation_id=conversation_id, message_id="msg-1")
    with app.app_context():
        db.session.execute(delete(Message).where(Message.conversation_id == conversation_id))
        db.session.execute(delete(Conversation).where(Conversation.id == conversation_id))
        db.session.commit()
    data = client.get("/api/stats", headers=alice).get_json()["data"]
    assert data["total_conversations"] == 0 and data["total_messages"] == 0
    assert data["total_tokens"] == 100 and data["total_cost"] == 0.5


def test_recording_the_same_message_twice_updates_one_record(app, alice, client):
    me = user_id_of(client, alice)
    first = add_usage(app, me, tokens=(10, 3), cost="0.001", message_id="msg-42", status="interrupted",
                      at=datetime(2024, 5, 1, 12, 0, 0))
    second = add_usage(app, me, tokens=(10, 40), cost="0.004", message_id="msg-42", status="complete")
    with app.app_context():
        records = db.session.execute(select(UsageRecord)).scalars().all()
        assert first == second and len(records) == 1
        record = records[0]
        assert (record.total_tokens, record.cost, record.status) == (50, Decimal("0.004"), "complete")
        assert record.created_at == datetime(2024, 5, 1, 12, 0, 0)  # the first record's time is kept


def test_record_usage_keeps_ids_latency_and_resolves_the_provider(app, client, alice, chat_model):
    me = user_id_of(client, alice)
    chat_model("fake-model-1", user_id=me, input_price="0.5", output_price="1.5")
    with app.app_context():
        from chathub.catalog.models import AiModel, Provider
        from chathub.keys.models import ApiKey

        model = db.session.execute(select(AiModel).filter_by(model_name="fake-model-1")).scalar_one()
        provider_id = db.session.execute(select(Provider.id).filter_by(provider_key="fake")).scalar_one()
        key_id = db.session.execute(select(ApiKey.id)).scalar_one()
        record = service.record_usage(
            user_id=me, conversation_id="c-1", message_id="m-1", model_name="fake-model-1", model_id=model.id,
            provider_key="fake", api_key_id=key_id, prompt_tokens=1000, completion_tokens=2000, cost=None,
            first_token_ms=42, total_ms=900, status="stopped",
        )
        # No cost given: the model's prices (0.5 and 1.5 per 1k tokens) price it: 0.5 + 3.0.
        assert record.cost == Decimal("3.5") and record.provider_id == provider_id
        assert (record.api_key_id, record.first_token_ms, record.total_ms) == (key_id, 42, 900)
        assert (record.conversation_id, record.status, record.total_tokens) == ("c-1", "stopped", 3000)


def test_record_usage_refuses_an_unknown_status(app, make_user):
    me = make_user("alice")
    with app.app_context():
        with pytest.raises(ValueError):
            service.record_usage(user_id=me, conversation_id=None, message_id=None, model_name="m", model_id=None,
                                 provider_key=None, api_key_id=None, prompt_tokens=1, completion_tokens=1, cost=0,
                                 first_token_ms=None, total_ms=None, status="streaming")
        assert db.session.execute(select(func.count(UsageRecord.id))).scalar_one() == 0


def test_completion_cost_is_exact():
    assert service.completion_cost(1234, 567, Decimal("0.0015"), Decimal("0.002")) == Decimal("0.0029850")
