"""Schemas for API keys (001 §7 + 003 scopes and distribution) and key tests (000)."""
from marshmallow import fields, pre_load, validate

from chathub.catalog.schemas import PROVIDER_KEY, ROW_ID, BaseUrl, StrictBoolean, StrictInteger
from chathub.keys.models import SCOPES
from chathub.schemas import BaseSchema, UtcDateTime, data_schema

SECRET = validate.Length(min=1, max=500)


class ApiKeySchema(BaseSchema):
    """A stored key as every answer shows it: `api_key` is masked (`sk-...abcd`), never the key."""

    id = fields.Integer()
    user_id = fields.Integer(metadata={"description": "The owner (the admin who created an organization key)"})
    name = fields.String(allow_none=True)
    model_provider = fields.String()
    scope = fields.String(metadata={"enum": list(SCOPES)})
    api_key = fields.String(attribute="key_hint", metadata={"example": "sk-...abcd"})
    base_url = fields.String(allow_none=True)
    is_active = fields.Boolean()
    last_used_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class _Strip(BaseSchema):
    @pre_load
    def _strip(self, data, **kwargs):
        if hasattr(data, "items"):
            data = {k: v.strip() if isinstance(v, str) and k != "name" else v for k, v in data.items()}
            if data.get("base_url") == "":
                data["base_url"] = None
        return data


class ApiKeyUpdateSchema(_Strip):
    """What the owner may change (a new `api_key` replaces the stored one)."""

    model_provider = fields.String(validate=PROVIDER_KEY)
    api_key = fields.String(validate=SECRET, load_only=True)
    base_url = BaseUrl(allow_none=True, metadata={"description": "Empty or null: the provider's default"})
    name = fields.String(allow_none=True, validate=validate.Length(max=100))
    is_active = StrictBoolean()


class ApiKeyCreateSchema(ApiKeyUpdateSchema):
    """001's body; `scope: "organization"` (admins) makes a key to distribute."""

    model_provider = fields.String(required=True, validate=PROVIDER_KEY, metadata={"example": "siliconflow"})
    api_key = fields.String(required=True, validate=SECRET, load_only=True, metadata={"example": "sk-your-key"})
    base_url = BaseUrl(allow_none=True, metadata={"example": "https://api.siliconflow.cn/v1/chat/completions"})
    scope = fields.String(load_default="personal", validate=validate.OneOf(SCOPES))
    is_active = StrictBoolean(load_default=True)


class AvailableKeySchema(BaseSchema):
    """Something this user may chat with: own key, distributed organization key, or server key."""

    id = fields.Integer(allow_none=True, metadata={"description": "null for a server key"})
    source = fields.String(metadata={"enum": ["personal", "organization", "server"]})
    model_provider = fields.String()
    provider_name = fields.String()
    name = fields.String(allow_none=True)
    api_key = fields.String(allow_none=True, metadata={"description": "Masked; null for server keys"})
    base_url = fields.String(allow_none=True)
    is_active = fields.Boolean()


class DistributeSchema(BaseSchema):
    """003: the users to give an organization key to."""

    user_ids = fields.List(StrictInteger(validate=ROW_ID), required=True,
                           validate=validate.Length(min=1, max=1000))


class DistributedSchema(BaseSchema):
    """The outcome of a distribution."""

    api_key_id = fields.Integer()
    distributed_to = fields.List(fields.Integer())
    distributed_at = UtcDateTime()


class KeyUserSchema(BaseSchema):
    """Who received or gave a key."""

    id = fields.Integer()
    username = fields.String()
    email = fields.String()


class DistributionSchema(BaseSchema):
    """One distribution record (003): who, when, by whom; revoked ones have `is_active` false."""

    id = fields.Integer()
    user_id = fields.Integer()
    user = fields.Nested(KeyUserSchema, allow_none=True)
    distributed_by = fields.Integer(allow_none=True)
    distributor = fields.Nested(KeyUserSchema, allow_none=True)
    distributed_at = UtcDateTime()
    revoked_at = UtcDateTime(allow_none=True)
    is_active = fields.Boolean()


class KeyTestSchema(BaseSchema):
    """Optional model to test a stored key with (default: the provider's first active catalog model)."""

    model = fields.String(validate=validate.Length(min=1, max=200))


class TestKeySchema(BaseSchema):
    """000's `POST /api/test-key`."""

    model = fields.String(required=True, validate=validate.Length(min=1, max=200),
                          metadata={"example": "openai/gpt-4o-mini"})


class KeyTestResultSchema(BaseSchema):
    """000's `{"ok": true}` plus what was tested."""

    ok = fields.Boolean()
    success = fields.Boolean()
    message = fields.String()
    provider = fields.String()
    model = fields.String(allow_none=True)
    source = fields.String()
    latency_ms = fields.Integer()


ApiKeyEnvelopeSchema = data_schema(ApiKeySchema, "ApiKeyEnvelope")
ApiKeyListEnvelopeSchema = data_schema(ApiKeySchema, "ApiKeyListEnvelope", many=True)
AvailableEnvelopeSchema = data_schema(AvailableKeySchema, "AvailableKeysEnvelope", many=True)
DistributedEnvelopeSchema = data_schema(DistributedSchema, "DistributedEnvelope")
DistributionListEnvelopeSchema = data_schema(DistributionSchema, "DistributionListEnvelope", many=True)
