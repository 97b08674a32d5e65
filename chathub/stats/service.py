"""Usage rules: recording what each chat completion used (`record_usage`), monthly quotas
(`check_quota`, `quota_status`, `set_quota`) and a user's own totals (`user_overview`).

The chat relay calls `check_quota` before it contacts any upstream and `record_usage` when a
completion ends (complete, failed, stopped or interrupted). Admin views live in `system.py`.
"""
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from chathub.catalog.models import AiModel, Provider
from chathub.conversations.models import Conversation, Message
from chathub.errors import ApiError
from chathub.extensions import db
from chathub.stats.models import STATUSES, UsageRecord, UserQuota
from chathub.stats.usage_queries import (
    CENT,
    add_totals,
    money,
    month_start,
    next_month,
    totals_columns,
    totals_of,
    zero_totals,
)
from chathub.timeutil import iso, utcnow
from chathub.users.service import get_user

THOUSAND = Decimal(1000)


def completion_cost(prompt_tokens, completion_tokens, input_price_per_1k, output_price_per_1k):
    """The cost of a completion at per-1k-token prices, as an exact Decimal."""
    cost = (Decimal(prompt_tokens) * Decimal(str(input_price_per_1k or 0))
            + Decimal(completion_tokens) * Decimal(str(output_price_per_1k or 0))) / THOUSAND
    return cost.quantize(CENT)


def catalog_cost(model_id, model_name, provider_key, prompt_tokens, completion_tokens):
    """The cost at the catalog model's current prices (zero for a model the catalog does not know)."""
    model = db.session.get(AiModel, model_id) if model_id else None
    if model is None and model_name:
        statement = select(AiModel).where(AiModel.model_name == model_name)
        if provider_key:
            statement = statement.where(AiModel.model_provider == provider_key)
        model = db.session.execute(statement).scalars().first()
    if model is None:
        return Decimal("0")
    return completion_cost(prompt_tokens, completion_tokens, model.input_price_per_1k, model.output_price_per_1k)


def record_usage(*, user_id, conversation_id, message_id, model_name, model_id, provider_key, api_key_id,
                 prompt_tokens, completion_tokens, cost, first_token_ms, total_ms, status,
                 created_at=None, commit=True):
    """Store what one completion used; a second call for the same `message_id` updates that record.

    `cost` is the Decimal the relay computed from the model's prices when it ran (None: computed
    here from the catalog's current prices). `created_at` defaults to now. Returns the UsageRecord.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    prompt, completion = max(0, int(prompt_tokens or 0)), max(0, int(completion_tokens or 0))
    if cost is None:
        cost = catalog_cost(model_id, model_name, provider_key, prompt, completion)
    provider_id = None
    if provider_key:
        provider_id = db.session.execute(
            select(Provider.id).where(Provider.provider_key == provider_key)).scalar()
    values = {
        "user_id": user_id,
        "conversation_id": str(conversation_id) if conversation_id else None,
        "message_id": str(message_id) if message_id else None,
        "model_name": (model_name or "unknown")[:200],
        "model_id": model_id,
        "provider_key": provider_key,
        "provider_id": provider_id,
        "api_key_id": api_key_id,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost": max(Decimal(str(cost)), Decimal("0")).quantize(CENT),
        "first_token_ms": None if first_token_ms is None else max(0, int(first_token_ms)),
        "total_ms": None if total_ms is None else max(0, int(total_ms)),
        "status": status,
        "created_at": created_at or utcnow(),
    }
    if values["message_id"] is None:
        record = UsageRecord(**values)
        db.session.add(record)
        db.session.flush()
    else:
        db.session.execute(upsert(values))
        record = db.session.execute(
            select(UsageRecord).where(UsageRecord.message_id == values["message_id"]),
            execution_options={"populate_existing": True},
        ).scalar_one()
    if commit:
        db.session.commit()
    return record


def upsert(values):
    """INSERT ... ON CONFLICT (message_id) DO UPDATE: atomic even when two workers record one message.
    The first record's user and time are kept."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(UsageRecord).values(**values)
    kept = {"message_id", "user_id", "created_at"}
    return statement.on_conflict_do_update(
        index_elements=[UsageRecord.message_id],
        set_={name: statement.excluded[name] for name in values if name not in kept},
    )


def month_usage(user_id, now=None):
    """(requests, tokens, cost) of the user in the UTC calendar month holding `now`."""
    now = now or utcnow()
    row = db.session.execute(
        select(*totals_columns()).where(
            UsageRecord.user_id == user_id,
            UsageRecord.created_at >= month_start(now),
            UsageRecord.created_at < next_month(now),
        )
    ).one()
    return totals_of(row)


def quota_of(user_id):
    """The user's UserQuota row, or None (no limits)."""
    return db.session.get(UserQuota, user_id)


def quota_status(user_id, now=None):
    """The user's limits and this month's use: what `/api/stats` and the admin quota endpoints show."""
    now = now or utcnow()
    quota = quota_of(user_id)
    token_limit = quota.monthly_token_limit if quota else None
    cost_limit = quota.monthly_cost_limit if quota else None
    used = month_usage(user_id, now)
    tokens_left = None if token_limit is None else max(0, token_limit - used["tokens"])
    cost_left = None if cost_limit is None else max(Decimal("0"), Decimal(cost_limit) - used["cost"])
    return {
        "user_id": user_id,
        "monthly_token_limit": token_limit,
        "monthly_cost_limit": cost_limit,
        "period": now.strftime("%Y-%m"),
        "period_start": month_start(now),
        "resets_at": next_month(now),
        "requests_this_month": used["requests"],
        "tokens_used": used["tokens"],
        "cost_used": used["cost"],
        "tokens_remaining": tokens_left,
        "cost_remaining": cost_left,
        "exceeded": (tokens_left == 0) or (cost_left is not None and cost_left == 0),
        "updated_at": quota.updated_at if quota else None,
    }


def check_quota(user_id, now=None):
    """Refuse (403 INSUFFICIENT_QUOTA) a chat when this month's recorded tokens or cost already reach the
    user's limit. Called before any upstream call, so concurrent chats overshoot by at most those running."""
    if quota_of(user_id) is None:
        return
    status = quota_status(user_id, now)
    resets = iso(status["resets_at"])
    if status["tokens_remaining"] == 0:
        raise ApiError(403, "INSUFFICIENT_QUOTA",
                       f"Monthly token quota reached: {status['tokens_used']} of "
                       f"{status['monthly_token_limit']} tokens used; it resets at {resets}")
    if status["cost_remaining"] is not None and status["cost_remaining"] == 0:
        raise ApiError(403, "INSUFFICIENT_QUOTA",
                       f"Monthly cost quota reached: {status['cost_used']:f} of "
                       f"{Decimal(status['monthly_cost_limit']):f} used; it resets at {resets}")


def set_quota(user_id, changes, acting_user_id=None):
    """Set the limits named in `changes` (`monthly_token_limit`, `monthly_cost_limit`; null = unlimited).
    404 for an unknown user. Returns the new `quota_status`."""
    get_user(user_id)
    quota = quota_of(user_id)
    if quota is None:
        quota = UserQuota(user_id=user_id)
        db.session.add(quota)
    for name in ("monthly_token_limit", "monthly_cost_limit"):
        if name in changes:
            setattr(quota, name, changes[name])
    quota.updated_by = acting_user_id
    quota.updated_at = utcnow()
    db.session.commit()
    return quota_status(user_id)


def get_quota(user_id):
    """The quota status of an existing user (404 otherwise)."""
    get_user(user_id)
    return quota_status(user_id)


def user_overview(user_id):
    """001's `/api/stats`: the user's conversations, messages, tokens and cost, per model, with quota."""
    conversations = db.session.execute(
        select(func.count(Conversation.id)).where(Conversation.user_id == user_id)).scalar_one()
    messages = db.session.execute(
        select(func.count(Message.id)).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.user_id == user_id)).scalar_one()
    rows = db.session.execute(
        select(UsageRecord.model_name, UsageRecord.provider_key, *totals_columns())
        .where(UsageRecord.user_id == user_id)
        .group_by(UsageRecord.model_name, UsageRecord.provider_key)
    ).all()
    by_model = sorted(({"model": row[0], "provider_key": row[1], **totals_of(row[2:])} for row in rows),
                      key=lambda item: (-item["tokens"], item["model"]))
    totals = zero_totals()
    for model in by_model:
        add_totals(totals, model)
    quota = quota_status(user_id)
    return {
        "total_conversations": conversations,
        "total_messages": messages,
        "total_requests": totals["requests"],
        "total_tokens": totals["tokens"],
        "prompt_tokens": totals["prompt_tokens"],
        "completion_tokens": totals["completion_tokens"],
        "total_cost": money(totals["cost"]),
        "by_model": by_model,
        "this_month": {"requests": quota["requests_this_month"], "tokens": quota["tokens_used"],
                       "cost": quota["cost_used"]},
        "quota": quota,
    }
