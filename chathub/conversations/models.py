"""The `conversations` and `messages` tables.

A conversation belongs to one user; a LightTavern character chat is a conversation bound to a
character (`character_id`). Deleting a conversation deletes its messages (001); usage records live
elsewhere and are kept.
"""
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chathub.extensions import db
from chathub.timeutil import utcnow

ROLES = ("user", "assistant", "system")
STATUSES = ("complete", "streaming", "failed", "stopped")
COST = Numeric(16, 8)


def new_id():
    """A new UUID string (conversation and message ids)."""
    return str(uuid.uuid4())


class Conversation(db.Model):
    """A user's conversation: title, last model used, optional character, free-form metadata (tags...)."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_user_updated", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="New conversation")
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    character_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # "metadata" is reserved on declarative classes; the column keeps the name.
    meta: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    messages: Mapped[list["Message"]] = relationship(
        back_populates="conversation",
        order_by="(Message.created_at, Message.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Message(db.Model):
    """One message. Assistant replies carry model, token usage, cost and a status:
    `streaming` while generated, then `complete`, `failed` (upstream error) or `stopped`."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_created", "conversation_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="complete", index=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal] = mapped_column(COST, default=Decimal("0"))
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
