"""Schemas for chat requests and answers (001, 003 and LightTavern's 000 body on the same path)."""
from marshmallow import ValidationError, fields, validate, validates_schema

from chathub.conversations.schemas import StoredMessageSchema
from chathub.schemas import BaseSchema

TEXT = validate.Length(max=200_000)
ID = validate.Length(min=1, max=36)


class ChatTurnSchema(BaseSchema):
    """One entry of 003's `messages` list."""

    role = fields.String(required=True, validate=validate.OneOf(["system", "user", "assistant"]))
    content = fields.String(required=True, validate=TEXT)


class LightTavernConfigSchema(BaseSchema):
    """000's `config` of a LightTavern chat."""

    maxHistory = fields.Integer(validate=validate.Range(min=0, max=1000))
    includeExamples = fields.Boolean()


class ChatRequestSchema(BaseSchema):
    """A chat. 001: `{message, model, conversation_id?}`; 003: `{messages: [...], conversation_id?}` whose
    last entry is the new user message (earlier entries, when given, are sent instead of the stored
    history); 000 (LightTavern): `{characterId, chatId, userInput, model, config}`. Every field is
    optional here; one of `message`, `messages` or `userInput` is required. `user_id` is ignored:
    the caller is whoever the credential says."""

    message = fields.String(validate=TEXT, metadata={"description": "001: the new user message"})
    messages = fields.List(fields.Nested(ChatTurnSchema), validate=validate.Length(min=1, max=500),
                           metadata={"description": "003: turns, the last one being the new user message"})
    model = fields.String(allow_none=True, validate=validate.Length(max=200))
    conversation_id = fields.String(allow_none=True, validate=ID,
                                    metadata={"description": "Continue this conversation (a new one when absent)"})
    user_id = fields.Raw(allow_none=True, metadata={"description": "Accepted and ignored (001)"})
    system_prompt = fields.String(allow_none=True, validate=validate.Length(max=50_000))
    preset_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    character_id = fields.String(allow_none=True, validate=ID)
    temperature = fields.Float(allow_none=True, validate=validate.Range(min=0, max=2))
    max_tokens = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=1_000_000))
    max_history = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1000),
                                 metadata={"description": "How many earlier messages are sent upstream"})
    characterId = fields.String(allow_none=True, validate=ID, metadata={"description": "000 (LightTavern)"})
    chatId = fields.String(allow_none=True, validate=ID, metadata={"description": "000 (LightTavern)"})
    userInput = fields.String(validate=TEXT, metadata={"description": "000 (LightTavern): the new user message"})
    config = fields.Nested(LightTavernConfigSchema, metadata={"description": "000 (LightTavern)"})

    @validates_schema
    def _has_a_message(self, data, **kwargs):
        if data.get("message") is None and not data.get("messages") and data.get("userInput") is None:
            raise ValidationError("Give `message` (or `messages`, or LightTavern's `userInput`)", "message")

    def is_lighttavern(self, data):
        """True for 000's body (answered LightTavern's way)."""
        return data.get("userInput") is not None


class ChatAnswerSchema(BaseSchema):
    """001's answer, plus the stored message's id, status, usage and cost."""

    conversation_id = fields.String()
    response = fields.String()
    model = fields.String()
    timestamp = fields.String(metadata={"example": "2024-01-01T12:00:00Z"})
    message_id = fields.String()
    status = fields.String()
    prompt_tokens = fields.Integer()
    completion_tokens = fields.Integer()
    total_tokens = fields.Integer()
    cost = fields.Float()


class ResumeQuerySchema(BaseSchema):
    """`?from=<event id>`: resume after that event (as `Last-Event-ID` does)."""

    from_ = fields.Integer(data_key="from", validate=validate.Range(min=-1, max=2**53),
                           metadata={"description": "Resume after this event id"})


class ResumeHeadersSchema(BaseSchema):
    """The `Last-Event-ID` an EventSource sends when it reconnects."""

    last_event_id = fields.Integer(data_key="Last-Event-ID", validate=validate.Range(min=-1, max=2**53))


class StopSchema(BaseSchema):
    """Which generation to stop: one message, or everything running in a conversation."""

    message_id = fields.String(validate=ID)
    conversation_id = fields.String(validate=ID)

    @validates_schema
    def _one_of(self, data, **kwargs):
        if not data.get("message_id") and not data.get("conversation_id"):
            raise ValidationError("Give `message_id` or `conversation_id`", "message_id")


class StopResultSchema(BaseSchema):
    """The messages concerned as now stored (a stopped one has status `stopped` and its partial reply)."""

    stopped = fields.Integer(metadata={"description": "How many running generations were stopped"})
    messages = fields.List(fields.Nested(StoredMessageSchema))


class StopAnswerSchema(BaseSchema):
    """`{success, data, message}`."""

    success = fields.Boolean()
    data = fields.Nested(StopResultSchema)
    message = fields.String()


SSE_DESCRIPTION = (
    "Server-Sent Events. Each event is `id: <n>` and `data: <json>`; `type` is `start` "
    "(conversation_id, message_id), `content` (content), `end` (message_id, tokens_used, prompt_tokens, "
    "completion_tokens, total_tokens, cost, status) or `error` (error, code). Ids: 0 for start, the reply's "
    "length in characters after each content event, that length + 1 for the final event."
)
