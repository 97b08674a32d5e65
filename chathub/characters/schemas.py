"""Schemas for character cards: the CanonicalCharacterCard a client sends, and a character as shown.

000 names the card fields in snake_case (`first_mes`) and the cover in camelCase (`coverImageDataUrl`);
both are kept as documented. Besides 000's core fields the card carries the community card fields
(`mes_example`, `system_prompt`, `post_history_instructions`, `alternate_greetings`, `tags`,
`creator_notes`) so imported cards keep them.
"""
import json

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from chathub.characters.covers import cover_url
from chathub.characters.models import LIST_FIELDS, TEXT_FIELDS
from chathub.schemas import BaseSchema, UtcDateTime, not_blank, storable

COVER_VALUE = (
    r"^(\s*|data:image/(png|jpeg|jpg|webp|gif);base64,[A-Za-z0-9+/=\s]*"
    r"|.*/api/cloud/covers/[0-9a-f]{32}\.(png|jpg|webp|gif))$"
)
COVER_HELP = (
    "Must be a data:image/png|jpeg|webp|gif;base64,... URL (SVG and other types are refused), "
    "this character's cover URL, or null"
)
NAME_MAX = 100
TEXT_MAX = 100_000
LIST_MAX = 100
TAG_MAX = 100
METADATA_MAX_CHARS = 2_000_000


class StorableTextSchema(BaseSchema):
    """A schema for card files, which do not come through the request parser: their text gets the same
    treatment as every JSON body (`chathub.schemas.storable`: NULs dropped, lone surrogates a field error)."""

    @pre_load
    def _storable_text(self, data, **kwargs):
        problems = {}
        data = storable(data, "", problems)
        if problems:
            raise ValidationError(problems)
        return data


class CharacterCardSchema(StorableTextSchema):
    """CanonicalCharacterCard in (create, update, import): `name` required, every other field optional.

    `null` clears a text or list field; `coverImageDataUrl` takes a `data:image/...;base64,` URL (a new
    cover), the character's current cover URL (kept), or `null`/`""` (cover removed).
    """

    name = fields.String(required=True, validate=[validate.Length(max=NAME_MAX), not_blank])
    persona = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    description = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    greeting = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    first_mes = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    scenario = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    style = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    rules = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    mes_example = fields.String(
        allow_none=True, validate=validate.Length(max=TEXT_MAX), metadata={"description": "Example dialogue"}
    )
    system_prompt = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    post_history_instructions = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    creator_notes = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    alternate_greetings = fields.List(
        fields.String(validate=validate.Length(max=TEXT_MAX)), allow_none=True, validate=validate.Length(max=LIST_MAX)
    )
    tags = fields.List(
        fields.String(validate=validate.Length(max=TAG_MAX)), allow_none=True, validate=validate.Length(max=LIST_MAX)
    )
    metadata = fields.Dict(keys=fields.String(), allow_none=True, metadata={"example": {"origin": "user"}})
    coverImageDataUrl = fields.String(
        allow_none=True,
        validate=validate.Regexp(COVER_VALUE, error=COVER_HELP),
        metadata={"description": "data:image/png|jpeg|webp|gif;base64,... (SVG is refused)"},
    )

    @validates_schema
    def _metadata_size(self, data, **kwargs):
        if data.get("metadata") and len(json.dumps(data["metadata"])) > METADATA_MAX_CHARS:
            raise ValidationError(f"Larger than {METADATA_MAX_CHARS} characters of JSON", "metadata")

    @post_load
    def _normalise(self, data, **kwargs):
        data["name"] = data["name"].strip()
        for key in TEXT_FIELDS:
            if key in data and data[key] is None:
                data[key] = ""
        for key in LIST_FIELDS:
            if key in data and data[key] is None:
                data[key] = []
        if "metadata" in data and data["metadata"] is None:
            data["metadata"] = {}
        return data


class CharacterSchema(BaseSchema):
    """A character as LightTavern shows it: the card fields, `coverImageUrl`, and ISO times."""

    id = fields.String()
    name = fields.String()
    persona = fields.String()
    description = fields.String()
    greeting = fields.String()
    first_mes = fields.String()
    scenario = fields.String()
    style = fields.String()
    rules = fields.String()
    mes_example = fields.String()
    system_prompt = fields.String()
    post_history_instructions = fields.String()
    creator_notes = fields.String()
    alternate_greetings = fields.List(fields.String())
    tags = fields.List(fields.String())
    metadata = fields.Dict(attribute="card_metadata")
    coverImageUrl = fields.Function(
        lambda character: cover_url(character.cover_image),
        allow_none=True,
        metadata={"type": "string", "nullable": True, "description": "Where the cover is served, or null"},
    )
    coverImageDataUrl = fields.Function(
        lambda character: cover_url(character.cover_image),
        allow_none=True,
        metadata={"type": "string", "nullable": True, "description": "Same as coverImageUrl (000 clients read this)"},
    )
    createdAt = UtcDateTime(attribute="created_at")
    updatedAt = UtcDateTime(attribute="updated_at")
