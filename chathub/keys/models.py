"""The `api_keys` table (a user's or the organization's credential for a provider, encrypted) and
`api_key_distributions` (which users may chat with an organization key)."""
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chathub.extensions import db
from chathub.timeutil import utcnow

SCOPES = ("personal", "organization")


class ApiKey(db.Model):
    """A provider credential. `api_key_encrypted` is Fernet ciphertext; `key_hint` the masked form."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    model_provider: Mapped[str] = mapped_column(
        String(64), ForeignKey("providers.provider_key", onupdate="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="personal")
    api_key_encrypted: Mapped[str] = mapped_column(Text)
    key_hint: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ApiKeyDistribution(db.Model):
    """An organization key granted to a user; revoking keeps the row with `is_active` false."""

    __tablename__ = "api_key_distributions"
    __table_args__ = (UniqueConstraint("api_key_id", "user_id", name="uq_api_key_distributions_key_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    distributed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    distributed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
