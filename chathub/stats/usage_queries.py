"""Usage aggregated in SQL: the reporting window, hourly/daily/monthly UTC buckets, and the report.

Buckets are computed and grouped by the database (`strftime` on SQLite, `date_trunc` on PostgreSQL);
only one row per bucket and provider comes back, and buckets with no use are filled with zeros here.
Stored times are naive UTC, so every bucket is a UTC hour/day/month.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, literal_column, select

from chathub.catalog.models import Provider
from chathub.extensions import db
from chathub.stats.models import UsageRecord
from chathub.users.models import User

GRANULARITIES = ("hourly", "daily", "monthly")
# The longest window each granularity may cover, in buckets (an hourly month, ten years of days, a century).
MAX_BUCKETS = {"hourly": 31 * 24, "daily": 3660, "monthly": 1200}
SPAN_LIMITS = {"hourly": "31 days", "daily": "3660 days", "monthly": "1200 months"}
# How far back the window starts when no start_date is given (in buckets, the end's bucket included).
DEFAULT_BUCKETS = {"hourly": 24, "daily": 30, "monthly": 12}
PYTHON_KEYS = {"hourly": "%Y-%m-%d %H", "daily": "%Y-%m-%d", "monthly": "%Y-%m"}
POSTGRES_UNITS = {"hourly": "hour", "daily": "day", "monthly": "month"}
CENT = Decimal("0.00000001")
BY_USER_LIMIT = 100


def money(value):
    """A summed cost as an exact Decimal with 8 places (SQLite sums NUMERIC as floats)."""
    return Decimal(str(value or 0)).quantize(CENT)


def month_start(moment):
    """Midnight UTC on the first day of `moment`'s month."""
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(moment):
    """Midnight UTC on the first day of the month after `moment`'s."""
    start = month_start(moment)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def bucket_floor(moment, granularity):
    """The start of the bucket holding `moment`."""
    if granularity == "hourly":
        return moment.replace(minute=0, second=0, microsecond=0)
    if granularity == "daily":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return month_start(moment)


def bucket_after(start, granularity):
    """The start of the bucket following the one starting at `start`."""
    if granularity == "hourly":
        return start + timedelta(hours=1)
    if granularity == "daily":
        return start + timedelta(days=1)
    return next_month(start)


def buckets_back(end_bucket, granularity, count):
    """The start of the bucket `count - 1` buckets before `end_bucket`."""
    if granularity == "monthly":
        months = end_bucket.year * 12 + end_bucket.month - 1 - (count - 1)
        return end_bucket.replace(year=months // 12, month=months % 12 + 1)
    step = timedelta(hours=1) if granularity == "hourly" else timedelta(days=1)
    return end_bucket - step * (count - 1)


def bucket_count(first, last, granularity):
    """How many buckets there are from the bucket starting at `first` to the one starting at `last`."""
    if granularity == "monthly":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    step = timedelta(hours=1) if granularity == "hourly" else timedelta(days=1)
    return (last - first) // step + 1


class InvalidWindow(Exception):
    """A requested window that is empty or too long for its granularity: names the field to blame."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Window:
    """The reporting window: `start` inclusive, `end` exclusive, naive UTC, cut into `granularity` buckets."""

    start: datetime
    end: datetime
    granularity: str

    def bucket_starts(self):
        """The start of every bucket the window touches, in order."""
        current, last = bucket_floor(self.start, self.granularity), bucket_floor(self.last_moment, self.granularity)
        while current <= last:
            yield current
            current = bucket_after(current, self.granularity)

    @property
    def last_moment(self):
        """The latest instant inside the window."""
        return self.end - timedelta(microseconds=1)


def usage_window(start, end, granularity, now):
    """The Window for the requested bounds; InvalidWindow when it is empty or too long.

    `start`/`end` are (naive UTC datetime, date_only) or None. A date-only end covers that whole day;
    a missing end means now; a missing start goes back DEFAULT_BUCKETS buckets from the end.
    """
    if end is None:
        end_exclusive = now + timedelta(microseconds=1)
    else:
        end_exclusive = end[0] + (timedelta(days=1) if end[1] else timedelta(microseconds=1))
    if start is None:
        last_bucket = bucket_floor(end_exclusive - timedelta(microseconds=1), granularity)
        start_moment = buckets_back(last_bucket, granularity, DEFAULT_BUCKETS[granularity])
    else:
        start_moment = start[0]
    if start_moment >= end_exclusive:
        raise InvalidWindow("start_date", "Must not be after end_date")
    window = Window(start_moment, end_exclusive, granularity)
    count = bucket_count(bucket_floor(start_moment, granularity), bucket_floor(window.last_moment, granularity),
                         granularity)
    if count > MAX_BUCKETS[granularity]:
        raise InvalidWindow("end_date", f"Too long for {granularity} buckets: at most {SPAN_LIMITS[granularity]}")
    return window


def bucket_key(column, granularity):
    """SQL giving the UTC bucket of `column`: its start on PostgreSQL (`date_trunc`), its text key on
    SQLite (`strftime`); `bucket_text` turns either into the same text key."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(literal_column(f"'{POSTGRES_UNITS[granularity]}'"), column)
    return func.strftime(literal_column(f"'{PYTHON_KEYS[granularity]}'"), column)


def bucket_text(value, granularity):
    """The text key (`2025-07-01 13`, `2025-07-01`, `2025-07`) of a bucket as the database returned it."""
    return value.strftime(PYTHON_KEYS[granularity]) if isinstance(value, datetime) else value


def bucket_label(start, granularity):
    """How a bucket is named in a report: `2025-07-01T13:00:00Z`, `2025-07-01` or `2025-07`."""
    if granularity == "hourly":
        return start.strftime("%Y-%m-%dT%H:00:00Z")
    return start.strftime("%Y-%m-%d" if granularity == "daily" else "%Y-%m")


def usage_filters(window, user_id=None, provider_id=None, provider_key=None):
    """WHERE conditions for the usage records of a report."""
    conditions = [UsageRecord.created_at >= window.start, UsageRecord.created_at < window.end]
    if user_id is not None:
        conditions.append(UsageRecord.user_id == user_id)
    if provider_id is not None:
        conditions.append(UsageRecord.provider_id == provider_id)
    if provider_key:
        conditions.append(UsageRecord.provider_key == provider_key)
    return conditions


def totals_columns():
    """Requests, tokens (total, prompt, completion) and cost, summed."""
    return (
        func.count(UsageRecord.id),
        func.coalesce(func.sum(UsageRecord.total_tokens), 0),
        func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
        func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
        func.coalesce(func.sum(UsageRecord.cost), 0),
    )


def totals_of(row):
    """A totals row as a dict."""
    requests, tokens, prompt, completion, cost = row[:5]
    return {"requests": int(requests), "tokens": int(tokens), "prompt_tokens": int(prompt),
            "completion_tokens": int(completion), "cost": money(cost)}


def add_totals(into, totals):
    """Add one totals dict to another, in place."""
    for name in ("requests", "tokens", "prompt_tokens", "completion_tokens", "cost"):
        into[name] += totals[name]


def zero_totals():
    """Totals of nothing."""
    return totals_of((0, 0, 0, 0, 0))


def average(total, count):
    """A rounded average, or None when there is nothing to average."""
    return round(float(total) / count) if count else None


def usage_report(window, user_id=None, provider_id=None, provider_key=None, by_user=False):
    """003's usage report: `summary`, `breakdown` (every bucket, zeros included) and `by_provider`;
    with `by_user`, the heaviest users too (admin view).

    One scan of the rows grouped by (bucket, provider): the database returns at most buckets x providers
    rows, and the summary, the breakdown and the per-provider totals are added up from them here.
    """
    conditions = usage_filters(window, user_id, provider_id, provider_key)
    key = bucket_key(UsageRecord.created_at, window.granularity).label("bucket")
    rows = db.session.execute(
        select(key, UsageRecord.provider_key, *totals_columns(),
               func.coalesce(func.sum(UsageRecord.first_token_ms), 0), func.count(UsageRecord.first_token_ms),
               func.coalesce(func.sum(UsageRecord.total_ms), 0), func.count(UsageRecord.total_ms))
        .where(*conditions)
        .group_by(key, UsageRecord.provider_key)
    ).all()
    summary, by_bucket, by_provider = zero_totals(), {}, {}
    latency = [0, 0, 0, 0]  # first-token sum and count, total sum and count
    for row in rows:
        totals = totals_of(row[2:7])
        add_totals(summary, totals)
        add_totals(by_bucket.setdefault(bucket_text(row[0], window.granularity), zero_totals()), totals)
        add_totals(by_provider.setdefault(row[1], zero_totals()), totals)
        latency = [sum(pair) for pair in zip(latency, (int(value) for value in row[7:11]), strict=True)]
    breakdown = []
    for start in window.bucket_starts():
        totals = by_bucket.get(start.strftime(PYTHON_KEYS[window.granularity])) or zero_totals()
        breakdown.append({"date": bucket_label(start, window.granularity), "period_start": start, **totals})
    report = {
        "granularity": window.granularity,
        "start_date": window.start,
        "end_date": window.last_moment.replace(microsecond=0),
        "summary": {
            "total_requests": summary["requests"],
            "total_tokens": summary["tokens"],
            "prompt_tokens": summary["prompt_tokens"],
            "completion_tokens": summary["completion_tokens"],
            "total_cost": summary["cost"],
            "average_tokens_per_request": average(summary["tokens"], summary["requests"]) or 0,
            "average_first_token_ms": average(latency[0], latency[1]),
            "average_total_ms": average(latency[2], latency[3]),
        },
        "breakdown": breakdown,
        "by_provider": named_providers(by_provider),
    }
    if by_user:
        report["by_user"] = user_totals(conditions)
    return report


def named_providers(by_provider):
    """{provider_key: totals} as a list, the most used first, named and numbered from the catalog."""
    keys = [key for key in by_provider if key]
    providers = {}
    if keys:
        providers = {p.provider_key: p for p in db.session.execute(
            select(Provider).where(Provider.provider_key.in_(keys))).scalars()}
    result = []
    for provider_key, totals in by_provider.items():
        provider = providers.get(provider_key)
        result.append({
            "provider_id": provider.id if provider else None,
            "provider_key": provider_key,
            "provider_name": provider.display_name if provider else (provider_key or "unknown"),
            **totals,
        })
    return sorted(result, key=lambda item: (-item["tokens"], item["provider_key"] or ""))


def user_totals(conditions):
    """Totals per user (at most BY_USER_LIMIT, the most tokens first), with usernames."""
    tokens = func.coalesce(func.sum(UsageRecord.total_tokens), 0)
    rows = db.session.execute(
        select(UsageRecord.user_id, User.username, *totals_columns())
        .join(User, User.id == UsageRecord.user_id)
        .where(*conditions)
        .group_by(UsageRecord.user_id, User.username)
        .order_by(tokens.desc(), UsageRecord.user_id)
        .limit(BY_USER_LIMIT)
    ).all()
    return [{"user_id": row[0], "username": row[1], **totals_of(row[2:])} for row in rows]
