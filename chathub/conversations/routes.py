"""Thin views for `/api/conversations`."""
from flask import Response, g
from flask.views import MethodView

from chathub.auth.guards import auth_required
from chathub.conversations import blp, service
from chathub.conversations.schemas import (
    ClearedSchema,
    ConversationCreateSchema,
    ConversationDetailEnvelopeSchema,
    ConversationEnvelopeSchema,
    ConversationListQuerySchema,
    ConversationPageSchema,
    ConversationUpdateSchema,
    ExportQuerySchema,
    MessageCreatedSchema,
    MessageCreateSchema,
    MessageListSchema,
)
from chathub.schemas import MessageSchema, page_size_of

EXPORT_RESPONSES = {
    "200": {
        "description": "The conversation as a JSON document or a Markdown file (an attachment)",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/markdown": {"schema": {"type": "string"}},
        },
    }
}


@blp.route("")
class Conversations(MethodView):
    """The caller's conversations."""

    @auth_required
    @blp.arguments(ConversationListQuerySchema, location="query")
    @blp.response(200, ConversationPageSchema)
    def get(self, args):
        """Conversations, most recently active first: `page`/`page_size` (or 004's `skip`/`limit`),
        `search` on title, filters `model`, `character_id`, `tag`."""
        page_size = args.get("limit") or page_size_of(args)
        items, pagination = service.list_conversations(g.user.id, args, args["page"], page_size)
        return {"success": True, "data": {"items": items, "pagination": pagination}, "message": "OK"}

    @auth_required
    @blp.arguments(ConversationCreateSchema)
    @blp.response(201, ConversationEnvelopeSchema)
    def post(self, data):
        """Create an empty conversation with a title, model, character and metadata (tags...)."""
        conversation = service.create_conversation(g.user.id, data)
        return {"success": True, "data": conversation, "message": "Conversation created"}


@blp.route("/<conversation_id>")
class ConversationById(MethodView):
    """One of the caller's conversations."""

    @auth_required
    @blp.response(200, ConversationDetailEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, conversation_id):
        """The conversation with its messages, oldest first."""
        conversation, messages = service.get_with_messages(g.user.id, conversation_id)
        data = {**service.vars_of(conversation), "messages": messages}
        return {"success": True, "data": data, "message": "OK"}

    @auth_required
    @blp.arguments(ConversationUpdateSchema)
    @blp.response(200, ConversationEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, data, conversation_id):
        """Rename (001: `title`) or change metadata (003)."""
        conversation = service.update_conversation(g.user.id, conversation_id, data)
        return {"success": True, "data": conversation, "message": "Conversation updated"}

    @auth_required
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, conversation_id):
        """Delete the conversation and its messages."""
        service.delete_conversation(g.user.id, conversation_id)
        return {"success": True, "message": "Conversation deleted"}


@blp.route("/<conversation_id>/messages")
class ConversationMessages(MethodView):
    """The messages of one of the caller's conversations."""

    @auth_required
    @blp.response(200, MessageListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, conversation_id):
        """Every message, oldest first, with role, content, status, model, tokens, cost and times."""
        conversation, messages = service.get_with_messages(g.user.id, conversation_id)
        return {"success": True, "conversation_id": conversation.id, "data": messages, "messages": messages}

    @auth_required
    @blp.arguments(MessageCreateSchema)
    @blp.response(201, MessageCreatedSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, conversation_id):
        """Append a message by hand (000), such as a character's greeting."""
        message = service.append_message(g.user.id, conversation_id, data["role"], data["content"])
        return {"success": True, "ok": True, "data": message, "message": "Message added"}

    @auth_required
    @blp.response(200, ClearedSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, conversation_id):
        """Remove every message (000); the conversation stays."""
        deleted = service.clear_messages(g.user.id, conversation_id)
        return {"success": True, "ok": True, "deleted": deleted, "message": "Messages cleared"}


@blp.route("/<conversation_id>/export")
class ConversationExport(MethodView):
    """A conversation as a file."""

    @auth_required
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.doc(responses=EXPORT_RESPONSES)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, conversation_id):
        """Export as JSON (`format=json`, default) or Markdown (`format=markdown`), as an attachment."""
        filename, mimetype, text = service.export(g.user.id, conversation_id, args["format"])
        response = Response(text, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
