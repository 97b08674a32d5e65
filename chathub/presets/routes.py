"""Thin views for `/api/presets` (`{success, data}` answers, 002 style)."""
from flask import g
from flask.views import MethodView

from chathub.auth.guards import auth_required
from chathub.presets import blp, service
from chathub.presets.schemas import PresetCreateSchema, PresetEnvelopeSchema, PresetPageSchema, PresetUpdateSchema
from chathub.schemas import MessageSchema, PageQuerySchema, page_size_of


@blp.route("")
class Presets(MethodView):
    """The caller's presets."""

    @auth_required
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, PresetPageSchema)
    def get(self, args):
        """The caller's presets, the default first: `page`, `page_size` (default 20, max 100)."""
        items, pagination = service.list_presets(g.user.id, args["page"], page_size_of(args))
        return {"success": True, "data": {"items": items, "pagination": pagination}, "message": "OK"}

    @auth_required
    @blp.arguments(PresetCreateSchema)
    @blp.response(201, PresetEnvelopeSchema)
    @blp.alt_response(409, response="CONFLICT", description="A preset with this name exists")
    def post(self, data):
        """Create a preset; `is_default: true` makes it the one chats use when they name none."""
        return {"success": True, "data": service.create_preset(g.user.id, data), "message": "Preset created"}


@blp.route("/<int:preset_id>")
class PresetById(MethodView):
    """One of the caller's presets (another user's id is a 404)."""

    @auth_required
    @blp.response(200, PresetEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, preset_id):
        """One preset."""
        return {"success": True, "data": service.get_preset(g.user.id, preset_id), "message": "OK"}

    @auth_required
    @blp.arguments(PresetUpdateSchema)
    @blp.response(200, PresetEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT", description="A preset with this name exists")
    def put(self, data, preset_id):
        """Change the fields given."""
        preset = service.update_preset(g.user.id, preset_id, data)
        return {"success": True, "data": preset, "message": "Preset updated"}

    @auth_required
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, preset_id):
        """Delete a preset."""
        service.delete_preset(g.user.id, preset_id)
        return {"success": True, "message": "Preset deleted"}
