"""LightTavern's chats over ChatHub's conversations: a chat is a conversation bound to a character
(`character_id`), so `/api/conversations` shows the same data. Ownership, appending and clearing
are the conversations service's; this module adds what 000 needs on top (per-character lists,
chat-init's default chat and greeting)."""
from datetime import timedelta

from sqlalchemy import select

from chathub.characters.models import Character
from chathub.characters.service import get_character
from chathub.conversations import service as conversations
from chathub.conversations.models import Conversation, Message
from chathub.extensions import db
from chathub.timeutil import utcnow

INIT_TITLE = "默认会话"  # 000's chat-init default chat
NEW_TITLE = "新会话"  # 000's default for a chat created without a title


def list_chats(user_id, character_id=None):
    """The user's character chats, most recently active first; only one character's when given
    (404 if that character is not the user's). Chats of deleted characters are not listed."""
    statement = (
        select(Conversation)
        .join(Character, Character.id == Conversation.character_id)
        .where(Conversation.user_id == user_id, Character.user_id == user_id, Character.deleted_at.is_(None))
        .order_by(Conversation.updated_at.desc(), Conversation.id)
    )
    if character_id is not None:
        statement = statement.where(Conversation.character_id == get_character(user_id, character_id).id)
    return db.session.execute(statement).scalars().all()


def create_chat(user_id, character_id, title=None):
    """A new chat with one of the user's characters."""
    character = get_character(user_id, character_id)
    return conversations.create_conversation(user_id, {"title": title or NEW_TITLE, "character_id": character.id})


def latest_chat(user_id, character_id):
    """The character's most recently active chat, or None."""
    return db.session.execute(
        select(Conversation)
        .where(Conversation.user_id == user_id, Conversation.character_id == character_id)
        .order_by(Conversation.updated_at.desc(), Conversation.created_at.desc(), Conversation.id)
        .limit(1)
    ).scalars().first()


def sync_greeting(conversation_id, greeting):
    """Make the chat open with the character's greeting: added to an empty chat, or written over the
    first message when that is an assistant message saying something else. A chat that opens with
    the user's own message is left as it is (its first assistant message is a real reply)."""
    if not greeting:
        return
    first = db.session.execute(
        select(Message).where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at, Message.id).limit(1)
    ).scalars().first()
    if first is None:
        now = utcnow()
        db.session.add(Message(conversation_id=conversation_id, role="assistant", content=greeting,
                               status="complete", created_at=now - timedelta(milliseconds=1), finished_at=now))
    elif first.role == "assistant" and first.status != "streaming" and first.content != greeting:
        first.content = greeting
        first.status = "complete"
    else:
        return
    db.session.commit()


def chat_init(user_id, character_id):
    """000's chat page: (character, chat, messages). The character's latest chat is created when there
    is none, and its greeting initialised or corrected as the first assistant message."""
    character = get_character(user_id, character_id)
    chat = latest_chat(user_id, character.id)
    if chat is None:
        chat = conversations.create_conversation(user_id, {"title": INIT_TITLE, "character_id": character.id})
    sync_greeting(chat.id, character.opening_message)
    return character, chat, conversations.messages_of(chat.id)


def chat_messages(user_id, chat_id):
    """The messages of one of the user's chats, oldest first (404 when not the user's)."""
    return conversations.get_with_messages(user_id, chat_id)[1]


def add_message(user_id, chat_id, role, content):
    """Append a message by hand (a greeting, say)."""
    return conversations.append_message(user_id, chat_id, role, content)


def clear_chat(user_id, chat_id):
    """Remove every message of the chat (the chat stays)."""
    return conversations.clear_messages(user_id, chat_id)
