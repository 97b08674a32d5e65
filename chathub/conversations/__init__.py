"""Conversations (`/api/conversations`, 001 §6, 003, 004 §3, 000 §3): a user's chats and their messages."""
from chathub.blueprint import Blueprint

blp = Blueprint(
    "conversations", __name__, url_prefix="/api/conversations", description="Conversations and their messages"
)

from chathub.conversations import routes  # noqa: E402,F401
