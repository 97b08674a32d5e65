"""The admin's view of the system: 003's system statistics and the per-user `statistics` of the admin
user list, each computed in a few grouped queries (never one query per user)."""
from datetime import timedelta

from sqlalchemy import case, func, inspect, select

from chathub.conversations.models import Conversation, Message
from chathub.extensions import db
from chathub.keys.models import ApiKey
from chathub.stats.models import UsageRecord
from chathub.stats.usage_queries import money, month_start
from chathub.timeutil import utcnow
from chathub.users.models import User


def count_since(column, moment):
    """SQL counting the rows whose `column` is at or after `moment`."""
    return func.coalesce(func.sum(case((column >= moment, 1), else_=0)), 0)


def system_statistics(now=None):
    """003's `/admin/statistics/system`: users, providers (API keys by scope and type), conversations
    (today and this ISO week, Monday 00:00 UTC), usage (all time and this UTC month)."""
    now = now or utcnow()
    this_month = month_start(now)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    this_week = today - timedelta(days=today.weekday())
    present = User.deleted_at.is_(None)
    users = db.session.execute(
        select(func.count(User.id),
               func.coalesce(func.sum(case(((User.is_active.is_(True)), 1), else_=0)), 0),
               count_since(User.created_at, this_month))
        .where(present)
    ).one()
    scopes, by_type = {"personal": 0, "organization": 0}, {}
    for scope, provider_key, count in db.session.execute(
        select(ApiKey.scope, ApiKey.model_provider, func.count(ApiKey.id)).group_by(ApiKey.scope, ApiKey.model_provider)
    ).all():
        scopes[scope] = scopes.get(scope, 0) + count
        by_type[provider_key] = by_type.get(provider_key, 0) + count
    conversations = db.session.execute(
        select(func.count(Conversation.id), count_since(Conversation.created_at, today),
               count_since(Conversation.created_at, this_week))
    ).one()
    month_rows = UsageRecord.created_at >= this_month
    usage = db.session.execute(
        select(func.count(UsageRecord.id),
               func.coalesce(func.sum(UsageRecord.total_tokens), 0),
               func.coalesce(func.sum(UsageRecord.cost), 0),
               count_since(UsageRecord.created_at, this_month),
               func.coalesce(func.sum(case((month_rows, UsageRecord.total_tokens), else_=0)), 0),
               func.coalesce(func.sum(case((month_rows, UsageRecord.cost), else_=0)), 0))
    ).one()
    return {
        "users": {"total": int(users[0]), "active": int(users[1]), "new_this_month": int(users[2])},
        "providers": {"total": sum(scopes.values()), **scopes, "by_type": dict(sorted(by_type.items()))},
        "conversations": {"total": int(conversations[0]), "today": int(conversations[1]),
                          "this_week": int(conversations[2])},
        "usage": {
            "total_requests": int(usage[0]),
            "total_tokens": int(usage[1]),
            "total_cost": money(usage[2]),
            "this_month_requests": int(usage[3]),
            "this_month_tokens": int(usage[4]),
            "this_month_cost": money(usage[5]),
        },
        "generated_at": now,
    }


def user_statistics(user_ids):
    """{user_id: {total_conversations, total_messages, total_tokens, total_cost}} from three grouped queries."""
    stats = {uid: {"total_conversations": 0, "total_messages": 0, "total_tokens": 0, "total_cost": money(0)}
             for uid in user_ids}
    if not user_ids:
        return stats
    for uid, count in db.session.execute(
        select(Conversation.user_id, func.count(Conversation.id))
        .where(Conversation.user_id.in_(user_ids)).group_by(Conversation.user_id)
    ).all():
        stats[uid]["total_conversations"] = int(count)
    for uid, count in db.session.execute(
        select(Conversation.user_id, func.count(Message.id))
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Conversation.user_id.in_(user_ids)).group_by(Conversation.user_id)
    ).all():
        stats[uid]["total_messages"] = int(count)
    for uid, tokens, cost in db.session.execute(
        select(UsageRecord.user_id, func.coalesce(func.sum(UsageRecord.total_tokens), 0),
               func.coalesce(func.sum(UsageRecord.cost), 0))
        .where(UsageRecord.user_id.in_(user_ids)).group_by(UsageRecord.user_id)
    ).all():
        stats[uid]["total_tokens"], stats[uid]["total_cost"] = int(tokens), money(cost)
    return stats


def with_statistics(users):
    """Each user as a dict of its columns plus 003's `statistics` (for the admin user list)."""
    stats = user_statistics([user.id for user in users])
    columns = [attribute.key for attribute in inspect(User).column_attrs]
    return [{**{name: getattr(user, name) for name in columns}, "statistics": stats[user.id]} for user in users]
