"""Schemas for presets: what a client sends and what it gets back."""
from marshmallow import fields, post_load, validate

from chathub.config_api.schemas import StrictBoolean
from chathub.schemas import BaseSchema, UtcDateTime, data_schema, not_blank, paged_schema

PROMPT_MAX = 100_000
MAX_TOKENS_MAX = 1_000_000


class PresetFieldsSchema(BaseSchema):
    """The preset fields, all optional (an update changes only what it names)."""

    name = fields.String(validate=[validate.Length(max=100), not_blank])
    system_prompt = fields.String(allow_none=True, validate=validate.Length(max=PROMPT_MAX))
    temperature = fields.Float(allow_none=True, validate=validate.Range(min=0, max=2))
    max_tokens = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_TOKENS_MAX), strict=True)
    model = fields.String(allow_none=True, validate=validate.Length(max=200))
    is_default = StrictBoolean(metadata={"description": "The preset chats use when they name none"})

    @post_load
    def _normalise(self, data, **kwargs):
        if "name" in data:
            data["name"] = data["name"].strip()
        if "system_prompt" in data and data["system_prompt"] is None:
            data["system_prompt"] = ""
        if "model" in data and data["model"] is not None:
            data["model"] = data["model"].strip() or None
        return data


class PresetUpdateSchema(PresetFieldsSchema):
    """`PUT /api/presets/{id}`: the fields to change; `null` clears temperature, max_tokens or model."""


class PresetCreateSchema(PresetFieldsSchema):
    """`POST /api/presets`: `name` required; temperature (0-2), max_tokens and model optional."""

    name = fields.String(required=True, validate=[validate.Length(max=100), not_blank])


class PresetSchema(BaseSchema):
    """A preset as every endpoint shows it."""

    id = fields.Integer()
    name = fields.String()
    system_prompt = fields.String()
    temperature = fields.Float(allow_none=True)
    max_tokens = fields.Integer(allow_none=True)
    model = fields.String(allow_none=True)
    is_default = fields.Boolean()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


PresetEnvelopeSchema = data_schema(PresetSchema, "PresetEnvelope")
PresetPageSchema = paged_schema(PresetSchema, "Preset")
