"""Thin views for `/api/chat`: streamed (SSE) and joined chats, resuming a stream, stopping a generation."""
from flask import Response, current_app, g
from flask.views import MethodView

from chathub.auth.guards import auth_required
from chathub.chat import blp, service
from chathub.chat.schemas import (
    SSE_DESCRIPTION,
    ChatAnswerSchema,
    ChatRequestSchema,
    ResumeHeadersSchema,
    ResumeQuerySchema,
    StopAnswerSchema,
    StopSchema,
)
from chathub.errors import ApiError

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
CHAT_DOC = {"responses": {"200": {
    "description": "001's answer (JSON), or LightTavern's `text/plain` stream for its body",
    "content": {"application/json": {"schema": ChatAnswerSchema}, "text/plain": {"schema": {"type": "string"}}},
}}}
SSE_DOC = {"responses": {"200": {
    "description": SSE_DESCRIPTION, "content": {"text/event-stream": {"schema": {"type": "string"}}},
}}}


def event_stream(body):
    """A `text/event-stream` response that no proxy should buffer."""
    return Response(body, mimetype="text/event-stream", headers=SSE_HEADERS)


def abort_on_disconnect():
    """CHATHUB_ABORT_ON_DISCONNECT: a disconnect stops the generation (else it runs to the end)."""
    return bool(current_app.config["CHATHUB_ABORT_ON_DISCONNECT"])


@blp.route("")
class Chat(MethodView):
    """A chat answered in one piece (001), or LightTavern's streamed text (000)."""

    @auth_required
    @blp.arguments(ChatRequestSchema)
    @blp.response(200, ChatAnswerSchema)
    @blp.doc(**CHAT_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(502, response="BAD_GATEWAY", description="AI_API_ERROR: the provider failed")
    @blp.alt_response(504, response="GATEWAY_TIMEOUT", description="UPSTREAM_TIMEOUT: the provider did not answer")
    def post(self, data):
        """Send a message and get the whole reply: `{conversation_id, response, model, timestamp}`.
        The upstream is still read as a stream (and stored as it goes). With LightTavern's body
        (`userInput`), answers 000's way: a `text/plain` stream ending with `[[LT_TOKEN_USAGE]]`."""
        if ChatRequestSchema().is_lighttavern(data):
            try:
                from chathub.cloud.chat import lighttavern_chat
            except ImportError:
                raise ApiError(400, "VALIDATION_ERROR", "LightTavern chats are not available on this server",
                               {"userInput": ["not supported here"]}) from None
            return lighttavern_chat(g.user.id, data)
        user_id = g.user.id
        plan = service.prepare_chat(user_id, data)
        return service.join(plan, service.launch(plan))


@blp.route("/stream")
class ChatStream(MethodView):
    """A chat streamed as Server-Sent Events (001, 003)."""

    @auth_required
    @blp.arguments(ChatRequestSchema)
    @blp.response(200, content_type="text/event-stream", description=SSE_DESCRIPTION)
    @blp.doc(**SSE_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data):
        """Send a message and receive the reply token by token. The generation outlives this
        connection: resume it with `GET /api/chat/stream/{message_id}`, stop it with `POST /api/chat/stop`."""
        plan = service.prepare_chat(g.user.id, data)
        generation = service.launch(plan)
        return event_stream(service.live_events(generation, -1, abort_on_disconnect()))


@blp.route("/stream/<message_id>")
class ChatResume(MethodView):
    """Reconnect to a generation."""

    @auth_required
    @blp.arguments(ResumeQuerySchema, location="query")
    @blp.arguments(ResumeHeadersSchema, location="headers")
    @blp.response(200, content_type="text/event-stream", description=SSE_DESCRIPTION)
    @blp.doc(**SSE_DOC)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, query, headers, message_id):
        """The events after `?from=` (or `Last-Event-ID`): what was generated since, then the rest live.
        A finished generation replays from the stored message. Without either, everything from `start`."""
        after = query.get("from_", headers.get("last_event_id", -1))
        return event_stream(service.resume(g.user.id, message_id, after, abort_on_disconnect()))


@blp.route("/stop")
class ChatStop(MethodView):
    """End a generation now."""

    @auth_required
    @blp.arguments(StopSchema)
    @blp.response(200, StopAnswerSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data):
        """Stop the generation of `message_id` (or every one running in `conversation_id`): the upstream
        request is closed at once and the partial reply is stored with status `stopped`."""
        messages, count = service.stop(g.user.id, data.get("message_id"), data.get("conversation_id"))
        text = "Generation stopped" if count else "Nothing was being generated"
        return {"success": True, "data": {"stopped": count, "messages": messages}, "message": text}
