"""LightTavern's `/api/cloud/settings`: the caller's model preference."""
from flask import g
from flask.views import MethodView

from chathub.auth.guards import auth_required
from chathub.cloud import blp, service
from chathub.cloud.schemas import SettingsSchema, SettingsUpdateSchema


@blp.route("/settings")
class Settings(MethodView):
    """The caller's settings."""

    @auth_required
    @blp.response(200, SettingsSchema)
    def get(self):
        """`{"settings": {"model"}}`: the caller's preference, else the server's default model."""
        return {"settings": {"model": service.current_model(g.user)}}

    @auth_required
    @blp.arguments(SettingsUpdateSchema)
    @blp.response(200, SettingsSchema)
    def patch(self, data):
        """Set the model preference (`null` returns to the server default)."""
        return {"settings": {"model": service.set_model_preference(g.user, data["model"])}}
