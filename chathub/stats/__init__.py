"""Usage statistics and quotas: the user's `/api/stats` and `/api/stats/usage` (001, 003), and the
admin's `/api/admin/statistics/system`, `/api/admin/usage` and `/api/admin/users/{id}/quota`.

The chat relay calls `service.check_quota` before contacting an upstream and `service.record_usage`
when a completion ends.
"""
from chathub.blueprint import Blueprint

blp = Blueprint("stats", __name__, url_prefix="/api", description="Usage statistics, quotas and system statistics")

from chathub.stats import routes  # noqa: E402,F401
