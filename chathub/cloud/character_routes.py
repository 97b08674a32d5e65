"""LightTavern's character views: `/api/cloud/characters` (list, create, get, patch, soft delete),
card import/export, and the cover images they link to."""
import io

from flask import current_app, g, make_response, send_file
from flask.views import MethodView

from chathub.auth.guards import auth_required
from chathub.characters import covers, service
from chathub.characters.schemas import CharacterCardSchema
from chathub.cloud import blp
from chathub.cloud.schemas import CardFileSchema, CharacterEnvelopeSchema, CharacterListSchema, ExportQuerySchema
from chathub.errors import ApiError, not_found
from chathub.schemas import ErrorSchema, MessageSchema

IMAGE_CONTENT = {kind: {"schema": {"type": "string", "format": "binary"}} for kind in covers.MIMETYPES.values()}


@blp.route("/characters")
class Characters(MethodView):
    """The caller's characters."""

    @auth_required
    @blp.response(200, CharacterListSchema)
    def get(self):
        """The caller's characters, newest first; three defaults are written on the first list."""
        return {"characters": service.list_characters(g.user.id)}

    @auth_required
    @blp.arguments(CharacterCardSchema)
    @blp.response(201, CharacterEnvelopeSchema)
    def post(self, data):
        """Create a character from a CanonicalCharacterCard (`name` required; `coverImageDataUrl` uploads a cover)."""
        return {"character": service.create_character(g.user.id, data)}


@blp.route("/characters/import")
class CharacterImport(MethodView):
    """Community character cards in."""

    @auth_required
    @blp.arguments(CardFileSchema, location="files")
    @blp.response(201, CharacterEnvelopeSchema)
    @blp.alt_response(413, schema=ErrorSchema, description="PAYLOAD_TOO_LARGE: larger than CHATHUB_CARD_MAX_BYTES")
    def post(self, data):
        """Import a Character Card V2/V3 JSON file or a PNG card (`chara`/`ccv3` chunk; the PNG becomes the cover)."""
        limit = current_app.config["CHATHUB_CARD_MAX_BYTES"]
        raw = data["file"].read(limit + 1) if hasattr(data["file"], "read") else b""
        if len(raw) > limit:
            raise ApiError(413, "PAYLOAD_TOO_LARGE", f"Character card files are limited to {limit} bytes")
        return {"character": service.import_card(g.user.id, raw)}


@blp.route("/characters/<uuid:character_id>")
class CharacterById(MethodView):
    """One of the caller's characters (another user's or a deleted one is a 404)."""

    @auth_required
    @blp.response(200, CharacterEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, character_id):
        """One character."""
        return {"character": service.get_character(g.user.id, character_id)}

    @auth_required
    @blp.arguments(CharacterCardSchema)
    @blp.response(200, CharacterEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, data, character_id):
        """Update a character: `name` required (000), other fields change only when given."""
        return {"character": service.update_character(g.user.id, character_id, data)}

    @auth_required
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, character_id):
        """Soft delete (sets `deleted_at`); `{"ok": true}`."""
        service.delete_character(g.user.id, character_id)
        return {"ok": True}


@blp.route("/characters/<uuid:character_id>/export")
class CharacterExport(MethodView):
    """Community character cards out."""

    @auth_required
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.doc(responses={"200": {"description": "A Character Card V2 file (download)", "content": {
        "application/json": {"schema": {"type": "object"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
    }}})
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, character_id):
        """Export as a V2 card: `format=json`, or `format=png` (the cover with a `chara` chunk)."""
        body, mimetype, filename = service.export_card(g.user.id, character_id, args["format"])
        return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=filename)


@blp.route("/covers/<name>")
class Cover(MethodView):
    """Stored cover images, by their generated (unguessable) names."""

    @blp.doc(responses={"200": {"description": "The image", "content": IMAGE_CONTENT}})
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, name):
        """A character's cover image (public by unguessable name, so `<img src>` works without headers)."""
        stored = covers.read_cover(name)
        if stored is None:
            raise not_found("Cover image")
        response = make_response(stored[0])
        response.headers["Content-Type"] = stored[1]
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
