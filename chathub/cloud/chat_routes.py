"""LightTavern's chat views: `/api/cloud/chat-init`, `/api/cloud/chats`, `/api/cloud/chats/{id}/messages`."""
from flask import g
from flask.views import MethodView

from chathub.auth.guards import auth_required
from chathub.cloud import blp, chats
from chathub.cloud.schemas import (
    ChatInitQuerySchema,
    ChatInitSchema,
    ChatListQuerySchema,
    CloudChatCreateSchema,
    CloudChatEnvelopeSchema,
    CloudChatListSchema,
    CloudMessageCreateSchema,
    CloudMessageListSchema,
)
from chathub.cloud.service import current_model
from chathub.schemas import MessageSchema


@blp.route("/chat-init")
class ChatInit(MethodView):
    """The chat page in one call."""

    @auth_required
    @blp.arguments(ChatInitQuerySchema, location="query")
    @blp.response(200, ChatInitSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args):
        """Character, current model, its most recent chat (created when none) and the messages, the
        first being the character's greeting (initialised or corrected)."""
        character, chat, messages = chats.chat_init(g.user.id, args["characterId"])
        return {"character": character, "model": current_model(g.user), "chat": chat, "messages": messages}


@blp.route("/chats")
class Chats(MethodView):
    """The caller's character chats."""

    @auth_required
    @blp.arguments(ChatListQuerySchema, location="query")
    @blp.response(200, CloudChatListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args):
        """Chats, most recent first; `characterId` keeps one character's."""
        return {"chats": chats.list_chats(g.user.id, args.get("characterId"))}

    @auth_required
    @blp.arguments(CloudChatCreateSchema)
    @blp.response(201, CloudChatEnvelopeSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data):
        """Start a chat with a character (`title` defaults to 新会话)."""
        return {"chat": chats.create_chat(g.user.id, data["characterId"], data.get("title"))}


@blp.route("/chats/<uuid:chat_id>/messages")
class ChatMessages(MethodView):
    """The messages of one of the caller's chats (another user's is a 404)."""

    @auth_required
    @blp.response(200, CloudMessageListSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, chat_id):
        """The messages, oldest first, with epoch-millisecond timestamps and token usage."""
        return {"messages": chats.chat_messages(g.user.id, str(chat_id))}

    @auth_required
    @blp.arguments(CloudMessageCreateSchema)
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, data, chat_id):
        """Write a message by hand (a greeting, say); `{"ok": true}`."""
        chats.add_message(g.user.id, str(chat_id), data["role"], data["content"])
        return {"ok": True}

    @auth_required
    @blp.response(200, MessageSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, chat_id):
        """Remove every message of the chat; `{"ok": true}`."""
        chats.clear_chat(g.user.id, str(chat_id))
        return {"ok": True}
