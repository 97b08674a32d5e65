"""The `usage_records` table (one row per chat completion, kept when its conversation is deleted) and
`user_quotas` (an admin's monthly token and cost limits for a user)."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from chathub.extensions import db
from chathub.timeutil import utcnow

STATUSES = ("complete", "failed", "stopped", "interrupted")
COST = Numeric(16, 8)


class UsageRecord(db.Model):
    """What one chat completion used and cost.

    Conversation, message, model, provider and key are plain ids (no foreign keys) so the record
    outlives all of them; `cost` was computed from the model's prices when the completion ran.
    """

    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_records_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    conversation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    message_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    model_name: Mapped[str] = mapped_column(String(200))
    model_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    provider_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    api_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal] = mapped_column(COST, default=Decimal("0"))
    first_token_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="complete")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class UserQuota(db.Model):
    """A user's monthly limits (UTC calendar month); a null limit means unlimited."""

    __tablename__ = "user_quotas"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    monthly_token_limit: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    monthly_cost_limit: Mapped[Decimal | None] = mapped_column(Numeric(16, 6), nullable=True)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
