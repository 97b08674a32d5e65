"""Schemas for the catalog: providers (001 §3) and models (001 §2), plus model discovery (000)."""
import re
from decimal import Decimal

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from chathub.schemas import BaseSchema, UtcDateTime, data_schema
from chathub.upstream.urlguard import normalize_base_url

PROVIDER_KEY = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$",
    error="1-64 letters, digits, '_', '.' or '-', starting with a letter or digit",
)
MODEL_TYPE = validate.Regexp(r"^[A-Za-z0-9_\-]{1,32}$", error="1-32 letters, digits, '_' or '-'")
SORT_ORDER = validate.Range(min=-1_000_000, max=1_000_000)
ROW_ID = validate.Range(min=1, max=2_147_483_647)  # what an INTEGER primary key holds
PRICE_RANGE = validate.Range(min=Decimal("0"), max=Decimal("1000000"))


# An http(s) URL with a DNS name or IPv4 host, optional port and plain path: what BaseUrl accepts,
# stated as a pattern so the OpenAPI document promises exactly what the server takes.
BASE_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9](?:[A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?"
    r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"
    r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/\-]*)?$"
)


class StrictInteger(fields.Integer):
    """A JSON integer (no floats, no numeric strings)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON `true`/`false` (no 0/1 or strings) in request bodies."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Price(fields.Decimal):
    """A price per 1k tokens: a JSON number, kept as an exact Decimal (6 places), written as a number."""

    def __init__(self, **kwargs):
        super().__init__(places=6, allow_nan=False, validate=PRICE_RANGE, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Not a valid number.")
        return super()._deserialize(value, attr, data, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else float(value)


class BaseUrl(fields.String):
    """An http(s) base URL, normalised to the API root (a trailing /chat/completions is removed)."""

    def __init__(self, **kwargs):
        metadata = {"pattern": BASE_URL_PATTERN, "maxLength": 500, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 500:
            raise ValidationError("Longer than 500 characters.")
        if not re.match(BASE_URL_PATTERN, text):
            raise ValidationError("Must be an http(s) URL with a host name or IPv4 address, and no query.")
        try:
            return normalize_base_url(text)
        except ValueError as exc:
            raise ValidationError(f"Base URL {exc}.") from None


class ProviderSchema(BaseSchema):
    """A provider as 001 shows it."""

    id = fields.Integer()
    provider_key = fields.String()
    display_name = fields.String()
    default_base_url = fields.String(allow_none=True)
    is_active = fields.Boolean()
    sort_order = fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class ProviderUpdateSchema(BaseSchema):
    """What an admin may change on a provider (`provider_key` is fixed once created)."""

    display_name = fields.String(validate=validate.Length(min=1, max=100))
    default_base_url = BaseUrl(allow_none=True, metadata={"example": "https://api.custom.com/v1"})
    is_active = StrictBoolean()
    sort_order = StrictInteger(validate=SORT_ORDER)


class ProviderCreateSchema(ProviderUpdateSchema):
    """001's provider creation body."""

    provider_key = fields.String(required=True, validate=PROVIDER_KEY, metadata={"example": "custom_provider"})
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    is_active = StrictBoolean(load_default=True)
    sort_order = StrictInteger(load_default=0, validate=SORT_ORDER)

    @post_load
    def _lower_key(self, data, **kwargs):
        data["provider_key"] = data["provider_key"].lower()
        return data


class ProviderListQuerySchema(BaseSchema):
    """`include_inactive=true` lists deactivated providers too (admins only)."""

    include_inactive = fields.Boolean(load_default=False)


class ModelSchema(BaseSchema):
    """A catalog model with exactly 001's fields."""

    id = fields.Integer()
    model_name = fields.String()
    display_name = fields.String()
    model_provider = fields.String()
    model_type = fields.String()
    max_tokens = fields.Integer(allow_none=True)
    supports_streaming = fields.Boolean()
    supports_function_calling = fields.Boolean()
    supports_vision = fields.Boolean()
    input_price_per_1k = Price()
    output_price_per_1k = Price()
    description = fields.String(allow_none=True)
    is_active = fields.Boolean()
    sort_order = fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class ModelUpdateSchema(BaseSchema):
    """What an admin may change on a model (any subset)."""

    model_name = fields.String(validate=validate.Length(min=1, max=200))
    display_name = fields.String(validate=validate.Length(min=1, max=200))
    model_provider = fields.String(validate=PROVIDER_KEY)
    model_type = fields.String(validate=MODEL_TYPE)
    max_tokens = StrictInteger(allow_none=True, validate=validate.Range(min=1, max=100_000_000))
    supports_streaming = StrictBoolean()
    supports_function_calling = StrictBoolean()
    supports_vision = StrictBoolean()
    input_price_per_1k = Price()
    output_price_per_1k = Price()
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    is_active = StrictBoolean()
    sort_order = StrictInteger(validate=SORT_ORDER)

    @pre_load
    def _strip_names(self, data, **kwargs):
        if hasattr(data, "items"):
            data = dict(data)
            for key in ("model_name", "display_name", "model_provider"):
                if isinstance(data.get(key), str):
                    data[key] = data[key].strip()
        return data


class ModelCreateSchema(ModelUpdateSchema):
    """001's model creation body (`display_name` defaults to `model_name`)."""

    model_name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                               metadata={"example": "gpt-4o"})
    model_provider = fields.String(required=True, validate=PROVIDER_KEY, metadata={"example": "openai"})
    model_type = fields.String(load_default="chat", validate=MODEL_TYPE)
    supports_streaming = StrictBoolean(load_default=True)
    supports_function_calling = StrictBoolean(load_default=False)
    supports_vision = StrictBoolean(load_default=False)
    input_price_per_1k = Price(load_default=Decimal("0"))
    output_price_per_1k = Price(load_default=Decimal("0"))
    is_active = StrictBoolean(load_default=True)
    sort_order = StrictInteger(load_default=0, validate=SORT_ORDER)


class ModelListQuerySchema(BaseSchema):
    """001's filters for `GET /api/models`."""

    active_only = fields.Boolean(load_default=False)
    provider = fields.String(validate=validate.Length(max=64))
    type = fields.String(validate=validate.Length(max=32))


class ModelOrderSchema(BaseSchema):
    """One model's new position."""

    id = StrictInteger(required=True, validate=ROW_ID)
    sort_order = StrictInteger(required=True, validate=SORT_ORDER)


class BatchOrderSchema(BaseSchema):
    """Either `{"models": [{"id", "sort_order"}, ...]}` or `{"model_ids": [ids in the new order]}`
    (`orders` and `items` are accepted as synonyms of `models`)."""

    models = fields.List(fields.Nested(ModelOrderSchema), validate=validate.Length(min=1, max=1000))
    model_ids = fields.List(StrictInteger(validate=ROW_ID), validate=validate.Length(min=1, max=1000))

    @pre_load
    def _synonyms(self, data, **kwargs):
        if hasattr(data, "items") and "models" not in data:
            for alias in ("orders", "items"):
                if alias in data:
                    data = dict(data)
                    data["models"] = data.pop(alias)
                    break
        return data

    @validates_schema
    def _one_form(self, data, **kwargs):
        if not data.get("models") and not data.get("model_ids"):
            raise ValidationError("Give `models` ([{id, sort_order}]) or `model_ids`", "models")

    @post_load
    def _as_pairs(self, data, **kwargs):
        if data.get("models"):
            return {"orders": [(item["id"], item["sort_order"]) for item in data["models"]]}
        return {"orders": [(model_id, index) for index, model_id in enumerate(data["model_ids"])]}


class DiscoverSchema(BaseSchema):
    """`POST /api/models/discover`: which provider to ask; `import` (admins) adds what is missing."""

    provider_key = fields.String(required=True, validate=PROVIDER_KEY, metadata={"example": "openrouter"})
    import_ = StrictBoolean(data_key="import", load_default=False)


class DiscoveredSchema(BaseSchema):
    """000's `{"models": [ids]}`, with how many were imported when asked."""

    success = fields.Boolean()
    models = fields.List(fields.String())
    imported = fields.Integer()
    message = fields.String()


class BatchOrderResultSchema(BaseSchema):
    """The outcome of a batch reorder."""

    success = fields.Boolean()
    message = fields.String()
    data = fields.List(fields.Nested(ModelSchema))


ProviderEnvelopeSchema = data_schema(ProviderSchema, "ProviderEnvelope")
ProviderListEnvelopeSchema = data_schema(ProviderSchema, "ProviderListEnvelope", many=True)
ModelEnvelopeSchema = data_schema(ModelSchema, "ModelEnvelope")
