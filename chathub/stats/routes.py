"""Thin views for statistics and quotas (`{success, data, message}` answers, 003 style)."""
from flask import g
from flask.views import MethodView

from chathub.auth.guards import admin_required, auth_required
from chathub.stats import blp, service, system
from chathub.stats.schemas import (
    AdminUsageQuerySchema,
    AdminUsageReportEnvelopeSchema,
    OverviewEnvelopeSchema,
    QuotaEnvelopeSchema,
    QuotaUpdateSchema,
    SystemStatisticsEnvelopeSchema,
    UsageQuerySchema,
    UsageReportEnvelopeSchema,
)
from chathub.stats.usage_queries import usage_report


@blp.route("/stats")
class Stats(MethodView):
    """The caller's own totals."""

    @auth_required
    @blp.response(200, OverviewEnvelopeSchema)
    def get(self):
        """001: the caller's conversations, messages, tokens and cost, per model, this month and quota."""
        return {"success": True, "data": service.user_overview(g.user.id), "message": "OK"}


@blp.route("/stats/usage")
class StatsUsage(MethodView):
    """The caller's usage over time."""

    @auth_required
    @blp.arguments(UsageQuerySchema, location="query")
    @blp.response(200, UsageReportEnvelopeSchema)
    def get(self, args):
        """003: `summary`, `breakdown` (one entry per UTC bucket, empty ones as zeros) and `by_provider`."""
        report = usage_report(args["window"], g.user.id, args.get("provider_id"), args.get("provider"))
        return {"success": True, "data": report, "message": "OK"}


@blp.route("/admin/usage")
class AdminUsage(MethodView):
    """Usage over time across all users."""

    @admin_required
    @blp.arguments(AdminUsageQuerySchema, location="query")
    @blp.response(200, AdminUsageReportEnvelopeSchema)
    def get(self, args):
        """Like `/api/stats/usage` for every user (or `user_id`), plus `by_user` (the 100 heaviest)."""
        report = usage_report(args["window"], args.get("user_id"), args.get("provider_id"), args.get("provider"),
                              by_user=True)
        return {"success": True, "data": report, "message": "OK"}


@blp.route("/admin/statistics/system")
class SystemStatistics(MethodView):
    """The whole system at a glance."""

    @admin_required
    @blp.response(200, SystemStatisticsEnvelopeSchema)
    def get(self):
        """003: users, providers (API keys by scope and type), conversations today/this week, usage."""
        return {"success": True, "data": system.system_statistics(), "message": "OK"}


@blp.route("/admin/users/<int:user_id>/quota")
class UserQuota(MethodView):
    """A user's monthly token and cost limits."""

    @admin_required
    @blp.response(200, QuotaEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, user_id):
        """The user's limits and this UTC month's use."""
        return {"success": True, "data": service.get_quota(user_id), "message": "OK"}

    @admin_required
    @blp.arguments(QuotaUpdateSchema)
    @blp.response(200, QuotaEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, data, user_id):
        """Set `monthly_token_limit` and/or `monthly_cost_limit` (null: unlimited; absent: unchanged).
        Chats are refused with 403 INSUFFICIENT_QUOTA once this month's use reaches a limit."""
        quota = service.set_quota(user_id, data, acting_user_id=g.user.id)
        return {"success": True, "data": quota, "message": "Quota updated"}
