"""Schemas for `/api/config`: the runtime settings and their validation."""
from limits import parse_many
from marshmallow import ValidationError, fields, validate

from chathub.schemas import BaseSchema, data_schema

MAX_HISTORY_MAX = 1000
# Flask-Limiter's grammar (`60 per minute`, `5/second;100/hour`, `10 per 5 minutes`), lower case, amounts
# from 1 to 999999999, windows up to 9999 units; a regular expression so the OpenAPI document states it.
_ONE_LIMIT = r"\s*0*[1-9][0-9]{0,8}\s*(/|per)\s*(0*[0-9]{1,4}\s*)?(second|minute|hour|day|month|year)s?\s*"
RATE_LIMIT_PATTERN = rf"^{_ONE_LIMIT}([,;|]{_ONE_LIMIT})*$"
RATE_LIMIT_HELP = "Not a rate limit such as '60 per minute' or '5/second;100/hour'"


class StrictBoolean(fields.Boolean):
    """A JSON `true`/`false` only (marshmallow's Boolean also takes 0, 1, "yes", "on"...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def rate_limit_string(value):
    """A Flask-Limiter limit such as `60 per minute` or `5/second;100/hour`, every amount at least 1."""
    try:
        limits = parse_many(value)
    except ValueError:
        raise ValidationError(RATE_LIMIT_HELP) from None
    if not limits or any(limit.amount < 1 for limit in limits):
        raise ValidationError("Every limit must allow at least 1 request")


RATE_LIMIT_VALIDATORS = [
    validate.Length(max=100), validate.Regexp(RATE_LIMIT_PATTERN, error=RATE_LIMIT_HELP), rate_limit_string,
]


class ConfigSchema(BaseSchema):
    """The effective runtime settings (an admin override, else the server's environment default)."""

    allow_registration = fields.Boolean(metadata={"description": "Whether self-service registration is open"})
    default_model = fields.String(allow_none=True, metadata={"description": "Model used when a chat names none"})
    default_max_history = fields.Integer(metadata={"description": "Messages of history sent upstream by default"})
    rate_limit_default = fields.String(metadata={"example": "60 per minute"})
    rate_limit_login = fields.String(metadata={"example": "10 per minute"})


class ConfigUpdateSchema(BaseSchema):
    """`PUT /api/config`: the settings to change; `null` returns one to its environment default."""

    allow_registration = StrictBoolean(allow_none=True)
    default_model = fields.String(allow_none=True, validate=validate.Length(max=200))
    default_max_history = fields.Integer(
        allow_none=True, strict=True, validate=validate.Range(min=1, max=MAX_HISTORY_MAX)
    )
    rate_limit_default = fields.String(allow_none=True, validate=RATE_LIMIT_VALIDATORS)
    rate_limit_login = fields.String(allow_none=True, validate=RATE_LIMIT_VALIDATORS)


ConfigEnvelopeSchema = data_schema(ConfigSchema, "ConfigEnvelope")
