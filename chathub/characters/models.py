"""The `characters` table: a user's role-play character cards (LightTavern's CanonicalCharacterCard)."""
import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chathub.extensions import db
from chathub.timeutil import utcnow

# Free-text card fields, in the order a card lists them (every one optional except `name`).
TEXT_FIELDS = (
    "persona",
    "description",
    "greeting",
    "first_mes",
    "scenario",
    "style",
    "rules",
    "mes_example",
    "system_prompt",
    "post_history_instructions",
    "creator_notes",
)
LIST_FIELDS = ("alternate_greetings", "tags")


def new_uuid():
    """A random UUID as text (characters, like conversations, have UUID ids)."""
    return str(uuid.uuid4())


class Character(db.Model):
    """A character card owned by one user. Deleting sets `deleted_at`; the row and its chats stay."""

    __tablename__ = "characters"
    __table_args__ = (UniqueConstraint("user_id", "seed_key", name="uq_characters_user_seed"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    persona: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    greeting: Mapped[str] = mapped_column(Text, default="")
    first_mes: Mapped[str] = mapped_column(Text, default="")
    scenario: Mapped[str] = mapped_column(Text, default="")
    style: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[str] = mapped_column(Text, default="")
    mes_example: Mapped[str] = mapped_column(Text, default="")
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    post_history_instructions: Mapped[str] = mapped_column(Text, default="")
    creator_notes: Mapped[str] = mapped_column(Text, default="")
    alternate_greetings: Mapped[list] = mapped_column(JSON, default=list)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    # `metadata` is reserved on declarative classes, hence the attribute name.
    card_metadata: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    # A generated file name under the uploads folder (never a client-supplied path).
    cover_image: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Set only on the default characters written on a user's first list; unique per user so two
    # concurrent first lists cannot write the defaults twice.
    seed_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)

    @property
    def opening_message(self):
        """The first assistant message of a new chat: `greeting`, else the card's `first_mes`."""
        return (self.greeting or self.first_mes or "").strip()
