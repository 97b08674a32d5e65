"""Schemas for statistics and quotas: the usage report's query (dates, range, granularity), the
reports, 001's `/api/stats`, 003's system statistics, and the admin quota."""
import re
from datetime import date, datetime, timezone
from decimal import Decimal

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from chathub.schemas import BaseSchema, UtcDateTime, data_schema
from chathub.stats.usage_queries import GRANULARITIES, InvalidWindow, usage_window
from chathub.timeutil import utcnow

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An empty value means "not given" (forms send `start_date=`).
DATE_OR_DATETIME = (r"^(\d{4}-\d{2}-\d{2}"
                    r"([T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,6})?)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?)?$")
DATE_PATTERN = re.compile(DATE_OR_DATETIME)
YEARS = (1970, 9998)
TOKEN_LIMIT_MAX = 10**15
COST_LIMIT_MAX = Decimal("1000000000")


class Money(fields.Decimal):
    """A cost: an exact Decimal inside, a JSON number on the wire."""

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else float(value)


class DateBound(fields.String):
    """`YYYY-MM-DD` (a whole UTC day) or an ISO 8601 datetime (UTC unless it names an offset).

    Loads as (naive UTC datetime, date_only)."""

    INVALID = "Not a valid date: use YYYY-MM-DD or an ISO 8601 datetime"

    def __init__(self, **kwargs):
        description = "`YYYY-MM-DD` (a whole UTC day) or an ISO 8601 datetime such as `2025-07-01T13:00:00Z`"
        metadata = {"pattern": DATE_OR_DATETIME, "description": description}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text or not DATE_PATTERN.match(text):
            raise ValidationError(self.INVALID)
        date_only = bool(DATE_ONLY.match(text))
        try:
            if date_only:
                moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
            else:
                moment = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise ValidationError(self.INVALID) from None
        try:
            if moment.tzinfo is not None:
                moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise ValidationError("Out of range") from None
        if not YEARS[0] <= moment.year <= YEARS[1]:
            raise ValidationError(f"The year must be between {YEARS[0]} and {YEARS[1]}")
        return moment, date_only


class UsageQuerySchema(BaseSchema):
    """`/api/stats/usage`: `start_date`, `end_date` (UTC, inclusive), `provider_id` or `provider`,
    `granularity` hourly|daily|monthly (default daily). Without dates: the last 24 hours, 30 days or
    12 months. At most 31 days hourly, 3660 days daily, 1200 months monthly."""

    start_date = DateBound()
    end_date = DateBound()
    provider_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                                 metadata={"description": "Catalog provider id"})
    provider = fields.String(validate=validate.Length(min=1, max=64),
                             metadata={"description": "Provider key, e.g. `openai`"})
    granularity = fields.String(load_default="daily", validate=validate.OneOf(GRANULARITIES))

    @pre_load
    def _empty_dates_are_absent(self, data, **kwargs):
        if not hasattr(data, "items"):
            return data
        return {k: v for k, v in data.items() if not (k in ("start_date", "end_date") and v == "")}

    def _window(self, data):
        return usage_window(data.get("start_date"), data.get("end_date"), data.get("granularity", "daily"), utcnow())

    @validates_schema(skip_on_field_errors=True)
    def _valid_window(self, data, **kwargs):
        try:
            self._window(data)
        except InvalidWindow as exc:
            raise ValidationError(exc.message, exc.field) from None

    @post_load
    def _as_window(self, data, **kwargs):
        data["window"] = self._window(data)
        return data


class AdminUsageQuerySchema(UsageQuerySchema):
    """`/api/admin/usage`: the same filters across all users, plus `user_id`."""

    user_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class TotalsSchema(BaseSchema):
    """Requests, tokens and cost of a slice of usage."""

    requests = fields.Integer()
    tokens = fields.Integer()
    prompt_tokens = fields.Integer()
    completion_tokens = fields.Integer()
    cost = Money()


class BucketSchema(TotalsSchema):
    """One bucket: `date` is `2025-07-01T13:00:00Z` (hourly), `2025-07-01` (daily) or `2025-07` (monthly)."""

    date = fields.String()
    period_start = UtcDateTime()


class ProviderTotalsSchema(TotalsSchema):
    """Usage of one provider."""

    provider_id = fields.Integer(allow_none=True)
    provider_key = fields.String(allow_none=True)
    provider_name = fields.String()


class UserTotalsSchema(TotalsSchema):
    """Usage of one user (admin report)."""

    user_id = fields.Integer()
    username = fields.String()


class UsageSummarySchema(BaseSchema):
    """The whole window at once."""

    total_requests = fields.Integer()
    total_tokens = fields.Integer()
    prompt_tokens = fields.Integer()
    completion_tokens = fields.Integer()
    total_cost = Money()
    average_tokens_per_request = fields.Integer()
    average_first_token_ms = fields.Integer(allow_none=True)
    average_total_ms = fields.Integer(allow_none=True)


class UsageReportSchema(BaseSchema):
    """003's usage statistics."""

    granularity = fields.String()
    start_date = UtcDateTime()
    end_date = UtcDateTime()
    summary = fields.Nested(UsageSummarySchema)
    breakdown = fields.List(fields.Nested(BucketSchema))
    by_provider = fields.List(fields.Nested(ProviderTotalsSchema))


class AdminUsageReportSchema(UsageReportSchema):
    """The usage report across users, with the heaviest users."""

    by_user = fields.List(fields.Nested(UserTotalsSchema))


class QuotaSchema(BaseSchema):
    """A user's monthly limits (null: unlimited) and this UTC month's use."""

    user_id = fields.Integer()
    monthly_token_limit = fields.Integer(allow_none=True)
    monthly_cost_limit = Money(allow_none=True)
    period = fields.String(metadata={"example": "2025-07"})
    period_start = UtcDateTime()
    resets_at = UtcDateTime()
    requests_this_month = fields.Integer()
    tokens_used = fields.Integer()
    cost_used = Money()
    tokens_remaining = fields.Integer(allow_none=True)
    cost_remaining = Money(allow_none=True)
    exceeded = fields.Boolean(metadata={"description": "True when new chats are refused (INSUFFICIENT_QUOTA)"})
    updated_at = UtcDateTime(allow_none=True)


class QuotaUpdateSchema(BaseSchema):
    """`PUT /api/admin/users/{id}/quota`: the limits to set; `null` removes one, an absent field is kept."""

    monthly_token_limit = fields.Integer(allow_none=True, strict=True,
                                         validate=validate.Range(min=0, max=TOKEN_LIMIT_MAX))
    monthly_cost_limit = Money(allow_none=True, places=6, validate=validate.Range(min=Decimal("0"), max=COST_LIMIT_MAX))


class ModelTotalsSchema(TotalsSchema):
    """Usage of one model."""

    model = fields.String()
    provider_key = fields.String(allow_none=True)


class MonthTotalsSchema(BaseSchema):
    """This UTC month's use."""

    requests = fields.Integer()
    tokens = fields.Integer()
    cost = Money()


class OverviewSchema(BaseSchema):
    """001's `/api/stats`: the caller's totals (conversations and messages as they are now; tokens and
    cost from every completion, deleted conversations included), per model, this month and the quota."""

    total_conversations = fields.Integer()
    total_messages = fields.Integer()
    total_requests = fields.Integer()
    total_tokens = fields.Integer()
    prompt_tokens = fields.Integer()
    completion_tokens = fields.Integer()
    total_cost = Money()
    by_model = fields.List(fields.Nested(ModelTotalsSchema))
    this_month = fields.Nested(MonthTotalsSchema)
    quota = fields.Nested(QuotaSchema)


class SystemUsersSchema(BaseSchema):
    """Accounts (soft-deleted ones not counted)."""

    total = fields.Integer()
    active = fields.Integer()
    new_this_month = fields.Integer()


class SystemProvidersSchema(BaseSchema):
    """Configured provider credentials (API keys) by scope and provider type."""

    total = fields.Integer()
    organization = fields.Integer()
    personal = fields.Integer()
    by_type = fields.Dict(keys=fields.String(), values=fields.Integer())


class SystemConversationsSchema(BaseSchema):
    """Conversations created in all, today and this ISO week (UTC)."""

    total = fields.Integer()
    today = fields.Integer()
    this_week = fields.Integer()


class SystemUsageSchema(BaseSchema):
    """Tokens and cost of every completion, in all and this UTC month."""

    total_requests = fields.Integer()
    total_tokens = fields.Integer()
    total_cost = Money()
    this_month_requests = fields.Integer()
    this_month_tokens = fields.Integer()
    this_month_cost = Money()


class SystemStatisticsSchema(BaseSchema):
    """003's system statistics."""

    users = fields.Nested(SystemUsersSchema)
    providers = fields.Nested(SystemProvidersSchema)
    conversations = fields.Nested(SystemConversationsSchema)
    usage = fields.Nested(SystemUsageSchema)
    generated_at = UtcDateTime()


UsageReportEnvelopeSchema = data_schema(UsageReportSchema, "UsageReportEnvelope")
AdminUsageReportEnvelopeSchema = data_schema(AdminUsageReportSchema, "AdminUsageReportEnvelope")
OverviewEnvelopeSchema = data_schema(OverviewSchema, "StatsOverviewEnvelope")
QuotaEnvelopeSchema = data_schema(QuotaSchema, "QuotaEnvelope")
SystemStatisticsEnvelopeSchema = data_schema(SystemStatisticsSchema, "SystemStatisticsEnvelope")
