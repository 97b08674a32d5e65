"""The catalog tables: `providers` (kinds of upstream, with their default base URL) and `ai_models`."""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chathub.extensions import db
from chathub.timeutil import utcnow

PRICE = Numeric(12, 6)


class Provider(db.Model):
    """An upstream kind (openai, siliconflow, ...). Deleting one only deactivates it (001)."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    default_base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AiModel(db.Model):
    """A model a chat may name, served by one provider, with its prices per 1k tokens."""

    __tablename__ = "ai_models"
    __table_args__ = (UniqueConstraint("model_provider", "model_name", name="uq_ai_models_provider_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    model_provider: Mapped[str] = mapped_column(
        String(64), ForeignKey("providers.provider_key", onupdate="CASCADE"), index=True
    )
    model_type: Mapped[str] = mapped_column(String(32), default="chat")
    max_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    supports_streaming: Mapped[bool] = mapped_column(Boolean, default=True)
    supports_function_calling: Mapped[bool] = mapped_column(Boolean, default=False)
    supports_vision: Mapped[bool] = mapped_column(Boolean, default=False)
    input_price_per_1k: Mapped[Decimal] = mapped_column(PRICE, default=Decimal("0"))
    output_price_per_1k: Mapped[Decimal] = mapped_column(PRICE, default=Decimal("0"))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
