"""Schemas shared by every resource: the base schema, the error envelope, pagination."""
from marshmallow import EXCLUDE, Schema, fields, validate

from chathub.timeutil import iso

PAGE_SIZE_MAX = 100

# A regular expression (not a function) so the OpenAPI document says it too: at least one character that
# is not white space, white space spelled out so Python and JSON Schema (ECMA 262) agree on it.
SPACE = r"\t\n\x0b\x0c\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
not_blank = validate.Regexp(rf"[\s\S]*[^{SPACE}]", error="Must not be blank")


UNSTORABLE = "Contains a lone surrogate escape, which cannot be stored as text"


def storable(value, path, problems):
    """`value` with NUL characters removed from every string and key (no database stores them in text);
    strings or keys holding lone surrogates are recorded in `problems` under their dotted path."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            problems[path or "_body"] = [UNSTORABLE]
        return value
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            name = storable(key, f"{path}.{key}" if path else str(key), problems) if isinstance(key, str) else key
            cleaned[name] = storable(item, f"{path}.{name}" if path else str(name), problems)
        return cleaned
    if isinstance(value, list):
        return [storable(item, f"{path}.{index}" if path else str(index), problems) for index, item in enumerate(value)]
    return value


class BaseSchema(Schema):
    """Unknown fields are ignored (API.md); everything else is validated."""

    class Meta:
        unknown = EXCLUDE


class UtcDateTime(fields.DateTime):
    """A stored naive-UTC datetime written as ISO 8601 with `Z` (`2024-01-01T12:00:00Z`)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return iso(value)


class ErrorSchema(Schema):
    """The error envelope every failure answers with."""

    success = fields.Boolean(metadata={"example": False})
    error = fields.String(metadata={"description": "Human-readable message"})
    code = fields.String(metadata={"example": "VALIDATION_ERROR"})
    details = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class MessageSchema(BaseSchema):
    """`{success, message}` for operations with nothing else to return."""

    success = fields.Boolean()
    ok = fields.Boolean()
    message = fields.String()


class PageQuerySchema(BaseSchema):
    """`page` (1-based) and `page_size` (default 20, max 100); `per_page` is a synonym (001)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=None, validate=validate.Range(min=1, max=PAGE_SIZE_MAX))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=PAGE_SIZE_MAX))

    DEFAULT_PAGE_SIZE = 20


class PaginationSchema(Schema):
    """Where a page sits in the whole list."""

    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    total_pages = fields.Integer()
    has_next = fields.Boolean()
    has_prev = fields.Boolean()


def page_size_of(args, default=PageQuerySchema.DEFAULT_PAGE_SIZE):
    """The requested page size: page_size, else per_page, else `default`."""
    return args.get("page_size") or args.get("per_page") or default


def paged_schema(item_schema, name):
    """A `{success, data: {items, pagination}, message}` schema for a list of `item_schema`."""
    page = Schema.from_dict(
        {"items": fields.List(fields.Nested(item_schema)), "pagination": fields.Nested(PaginationSchema)},
        name=f"{name}Page",
    )
    return Schema.from_dict(
        {"success": fields.Boolean(), "data": fields.Nested(page), "message": fields.String()},
        name=f"{name}PageEnvelope",
    )


def data_schema(inner, name, many=False):
    """A `{success, data, message}` schema wrapping `inner`."""
    return Schema.from_dict(
        {"success": fields.Boolean(), "data": fields.Nested(inner, many=many), "message": fields.String()},
        name=name,
    )
