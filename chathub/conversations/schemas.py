"""Schemas for conversations and messages: what they look like on the wire and what may be sent."""
from marshmallow import fields, pre_load, validate

from chathub.conversations.models import ROLES, STATUSES
from chathub.schemas import BaseSchema, PageQuerySchema, UtcDateTime, data_schema, not_blank, paged_schema

TITLE = [validate.Length(min=1, max=200), not_blank]
CONTENT = validate.Length(max=200_000)
UUID_LIKE = validate.Length(min=1, max=36)


class MessageMetadataSchema(BaseSchema):
    """003's `metadata` of an assistant message."""

    model = fields.String(allow_none=True)
    tokens_used = fields.Integer()
    cost = fields.Float()


class StoredMessageSchema(BaseSchema):
    """A message as every endpoint shows it."""

    id = fields.String()
    conversation_id = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    content = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    model = fields.String(allow_none=True)
    prompt_tokens = fields.Integer()
    completion_tokens = fields.Integer()
    total_tokens = fields.Integer()
    tokens_used = fields.Function(lambda message: message.total_tokens, metadata={"type": "integer"})
    cost = fields.Float()
    error_code = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    metadata = fields.Method("_metadata", metadata={"description": "003: {model, tokens_used, cost}"})
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    finished_at = UtcDateTime(allow_none=True)

    def _metadata(self, message):
        return {"model": message.model, "tokens_used": message.total_tokens, "cost": float(message.cost or 0)}


class ConversationSchema(BaseSchema):
    """A conversation in lists and after changes (no messages)."""

    id = fields.String()
    user_id = fields.Integer()
    title = fields.String()
    model = fields.String(allow_none=True)
    character_id = fields.String(allow_none=True)
    metadata = fields.Dict(attribute="meta")
    message_count = fields.Integer(dump_default=0)
    last_message_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class ConversationDetailSchema(ConversationSchema):
    """A conversation with its messages, oldest first (003/004)."""

    messages = fields.List(fields.Nested(StoredMessageSchema))


class ConversationListQuerySchema(PageQuerySchema):
    """003's pagination, `search` on title and filters; 004's `skip`/`limit` accepted too."""

    search = fields.String(validate=validate.Length(max=200))
    model = fields.String(validate=validate.Length(max=200))
    character_id = fields.String(validate=validate.Length(max=36))
    tag = fields.String(validate=validate.Length(max=100), metadata={"description": "Only conversations tagged so"})
    skip = fields.Integer(validate=validate.Range(min=0, max=10_000_000), metadata={"description": "004: offset"})
    limit = fields.Integer(validate=validate.Range(min=1, max=100), metadata={"description": "004: page size"})


class ConversationCreateSchema(BaseSchema):
    """003/004 create: title (004 calls it `name`), model, character, metadata such as tags."""

    title = fields.String(validate=TITLE)
    name = fields.String(validate=TITLE, metadata={"description": "004's name for the title"})
    model = fields.String(allow_none=True, validate=validate.Length(max=200))
    character_id = fields.String(allow_none=True, validate=UUID_LIKE)
    metadata = fields.Dict(keys=fields.String(), allow_none=True)

    @pre_load
    def _strip(self, data, **kwargs):
        if isinstance(data, dict):
            data = dict(data)
            for key in ("title", "name"):
                if isinstance(data.get(key), str):
                    data[key] = data[key].strip()
        return data


class ConversationUpdateSchema(ConversationCreateSchema):
    """001 rename (`title`), 003 metadata change; fields not given stay as they are."""


class MessageCreateSchema(BaseSchema):
    """000: append a message by hand (a greeting, say)."""

    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    content = fields.String(required=True, validate=CONTENT)


class ExportQuerySchema(BaseSchema):
    """`format=json` (default) or `markdown`."""

    format = fields.String(load_default="json", validate=validate.OneOf(["json", "markdown", "md"]))


class ClearedSchema(BaseSchema):
    """000's `{ok}` plus 003's `{success, message}` and how many messages were removed."""

    success = fields.Boolean()
    ok = fields.Boolean()
    message = fields.String()
    deleted = fields.Integer()


class MessageListSchema(BaseSchema):
    """001's message list: `{success, conversation_id, data: [...]}` (also under `messages`)."""

    success = fields.Boolean()
    conversation_id = fields.String()
    data = fields.List(fields.Nested(StoredMessageSchema))
    messages = fields.List(fields.Nested(StoredMessageSchema))
    message = fields.String()


class MessageCreatedSchema(BaseSchema):
    """The appended message (`data`) and 000's `ok`."""

    success = fields.Boolean()
    ok = fields.Boolean()
    data = fields.Nested(StoredMessageSchema)
    message = fields.String()


ConversationEnvelopeSchema = data_schema(ConversationSchema, "ConversationEnvelope")
ConversationDetailEnvelopeSchema = data_schema(ConversationDetailSchema, "ConversationDetailEnvelope")
ConversationPageSchema = paged_schema(ConversationSchema, "Conversation")
