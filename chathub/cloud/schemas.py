"""LightTavern's shapes (000): `{characters}`, `{character}`, `{chats}`, `{chat}`, `{messages}`, `{settings}`."""
from marshmallow import fields, validate

from chathub.characters.schemas import CharacterSchema
from chathub.schemas import BaseSchema, UtcDateTime, not_blank
from chathub.timeutil import epoch_ms


class CharacterListSchema(BaseSchema):
    """`GET /api/cloud/characters`."""

    characters = fields.List(fields.Nested(CharacterSchema))


class CharacterEnvelopeSchema(BaseSchema):
    """`{character}`."""

    character = fields.Nested(CharacterSchema)


class CardFileSchema(BaseSchema):
    """`POST /api/cloud/characters/import`: a multipart upload named `file` (card `.json` or `.png`)."""

    file = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "Character Card V2/V3 JSON, or a PNG card"},
    )


class ExportQuerySchema(BaseSchema):
    """`?format=json|png` (default json)."""

    format = fields.String(load_default="json", validate=validate.OneOf(["json", "png"]))


class ModelSettingSchema(BaseSchema):
    """The user's model preference (the server default when they have none)."""

    model = fields.String(allow_none=True)


class SettingsSchema(BaseSchema):
    """`{settings: {model}}`."""

    settings = fields.Nested(ModelSettingSchema)


class SettingsUpdateSchema(BaseSchema):
    """`PATCH /api/cloud/settings`: `{"model": "xxx/yyy"}` (`null` returns to the server default)."""

    model = fields.String(required=True, allow_none=True, validate=[validate.Length(max=200), not_blank])


class CloudChatSchema(BaseSchema):
    """A LightTavern chat: a conversation bound to a character."""

    id = fields.String()
    characterId = fields.String(attribute="character_id", allow_none=True)
    title = fields.String()
    createdAt = UtcDateTime(attribute="created_at")
    updatedAt = UtcDateTime(attribute="updated_at")


def token_usage(message):
    """000's camelCase token usage of a message."""
    return {"promptTokens": message.prompt_tokens or 0, "completionTokens": message.completion_tokens or 0,
            "totalTokens": message.total_tokens or 0}


class TokenUsageSchema(BaseSchema):
    """`{promptTokens, completionTokens, totalTokens}`."""

    promptTokens = fields.Integer()
    completionTokens = fields.Integer()
    totalTokens = fields.Integer()


class CloudChatMessageSchema(BaseSchema):
    """000's ChatMessage: epoch-millisecond `timestamp`, camelCase `tokenUsage`; `status` tells a
    stored partial reply (`failed`, `stopped`) from a complete one."""

    id = fields.String()
    role = fields.String()
    content = fields.String()
    timestamp = fields.Function(lambda message: epoch_ms(message.created_at), metadata={"type": "integer"})
    tokenUsage = fields.Function(token_usage, metadata={"type": "object"})
    status = fields.String()


class ChatListQuerySchema(BaseSchema):
    """`?characterId=` (optional)."""

    characterId = fields.String(validate=validate.Length(min=1, max=36))


class ChatInitQuerySchema(BaseSchema):
    """`?characterId=` (required)."""

    characterId = fields.String(required=True, validate=validate.Length(min=1, max=36))


class CloudChatCreateSchema(BaseSchema):
    """`POST /api/cloud/chats`: `{characterId, title?}`."""

    characterId = fields.String(required=True, validate=validate.Length(min=1, max=36))
    title = fields.String(allow_none=True, validate=validate.Length(max=200))


class CloudMessageCreateSchema(BaseSchema):
    """`POST /api/cloud/chats/{id}/messages`: `{role, content}`."""

    role = fields.String(required=True, validate=validate.OneOf(["user", "assistant", "system"]))
    content = fields.String(required=True, validate=validate.Length(min=1, max=200_000))


class CloudChatListSchema(BaseSchema):
    """`{chats}`."""

    chats = fields.List(fields.Nested(CloudChatSchema))


class CloudChatEnvelopeSchema(BaseSchema):
    """`{chat}`."""

    chat = fields.Nested(CloudChatSchema)


class CloudMessageListSchema(BaseSchema):
    """`{messages}`."""

    messages = fields.List(fields.Nested(CloudChatMessageSchema))


class ChatInitSchema(BaseSchema):
    """`GET /api/cloud/chat-init`: the character, the current model, its chat and the messages."""

    character = fields.Nested(CharacterSchema)
    model = fields.String(allow_none=True)
    chat = fields.Nested(CloudChatSchema)
    messages = fields.List(fields.Nested(CloudChatMessageSchema))
