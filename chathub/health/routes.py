"""Thin view for `/api/health`."""
from flask.views import MethodView
from marshmallow import Schema, fields

from chathub.health import blp
from chathub.health.service import health_report


class ComponentSchema(Schema):
    """One component's state."""

    status = fields.String()
    response_time_ms = fields.Float()


class HealthSchema(Schema):
    """001's `{status, message}` plus 003's version, uptime and components."""

    status = fields.String(metadata={"example": "healthy"})
    message = fields.String()
    version = fields.String()
    uptime = fields.Float(metadata={"description": "Seconds since this process started"})
    components = fields.Dict(keys=fields.String(), values=fields.Nested(ComponentSchema))


@blp.route("")
class Health(MethodView):
    """Liveness and readiness."""

    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database cannot be reached")
    def get(self):
        """Service status; 503 with `status: unhealthy` when the database is down."""
        healthy, report = health_report()
        return report, 200 if healthy else 503
