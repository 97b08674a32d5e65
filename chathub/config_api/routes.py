"""Thin views for `/api/config` (admin only, `{success, data}` answers)."""
from flask.views import MethodView

from chathub.auth.guards import admin_required
from chathub.config_api import blp, service
from chathub.config_api.schemas import ConfigEnvelopeSchema, ConfigUpdateSchema


@blp.route("")
class Config(MethodView):
    """Registration, default model, default history window and rate limits."""

    @admin_required
    @blp.response(200, ConfigEnvelopeSchema)
    def get(self):
        """The effective runtime settings."""
        return {"success": True, "data": service.effective_config(), "message": "OK"}

    @admin_required
    @blp.arguments(ConfigUpdateSchema)
    @blp.response(200, ConfigEnvelopeSchema)
    def put(self, data):
        """Change settings; they apply at once, without a restart. `null` restores the environment default."""
        return {"success": True, "data": service.update_config(data), "message": "Configuration updated"}
