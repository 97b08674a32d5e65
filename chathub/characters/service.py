"""Character rules: a user's cards (created, read, changed, soft-deleted), the three default characters
written on a user's first list, covers, and card import/export.

Every lookup is by (user id, character id): another user's or a deleted character is a 404.
"""
import json
import re
from datetime import timedelta

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chathub.characters import cards, covers
from chathub.characters.defaults import DEFAULT_CHARACTERS
from chathub.characters.models import LIST_FIELDS, TEXT_FIELDS, Character
from chathub.characters.schemas import COVER_HELP, CharacterCardSchema
from chathub.errors import ApiError, not_found
from chathub.extensions import db
from chathub.timeutil import utcnow

CARD_FIELDS = ("name",) + TEXT_FIELDS + LIST_FIELDS


def get_character(user_id, character_id):
    """The user's live (not deleted) character with this id, or 404."""
    statement = select(Character).where(
        Character.id == str(character_id), Character.user_id == user_id, Character.deleted_at.is_(None)
    )
    character = db.session.execute(statement).scalars().first()
    if character is None:
        raise not_found("Character")
    return character


def ensure_default_characters(user_id):
    """Write the default characters for a user who has never had any (a no-op afterwards)."""
    if db.session.execute(select(Character.id).where(Character.user_id == user_id).limit(1)).first():
        return
    now = utcnow()
    for index, seed in enumerate(DEFAULT_CHARACTERS):
        fresh = {**seed, "card_metadata": dict(seed["card_metadata"]), "tags": list(seed["tags"])}
        # Newest first lists the defaults in their written order.
        fresh["created_at"] = fresh["updated_at"] = now - timedelta(seconds=index)
        db.session.add(Character(user_id=user_id, **fresh))
    try:
        db.session.commit()
    except IntegrityError:
        # Another request wrote them first (unique user_id + seed_key).
        db.session.rollback()


def list_characters(user_id):
    """The user's live characters, newest first (the defaults are written on the first list)."""
    ensure_default_characters(user_id)
    statement = (
        select(Character)
        .where(Character.user_id == user_id, Character.deleted_at.is_(None))
        .order_by(Character.created_at.desc(), Character.name)
    )
    return db.session.execute(statement).scalars().all()


def _apply_fields(character, data):
    for key in CARD_FIELDS:
        if key in data:
            setattr(character, key, data[key])
    if "metadata" in data:
        character.card_metadata = data["metadata"]


def _new_cover(character, value):
    """(changed, new file name) for a `coverImageDataUrl` value on `character`."""
    if value is None or not value.strip():
        return character.cover_image is not None, None
    if character.cover_image and covers.name_from_url(value) == character.cover_image:
        return False, character.cover_image
    if not value.strip().lower().startswith("data:"):
        raise covers.cover_error(COVER_HELP)
    return True, covers.store_data_url(value)


def create_character(user_id, data, cover_name=None):
    """A new character from validated card fields; a `coverImageDataUrl` is checked and stored first."""
    character = Character(user_id=user_id, card_metadata={}, alternate_greetings=[], tags=[])
    for key in TEXT_FIELDS:
        setattr(character, key, "")
    _apply_fields(character, data)
    if data.get("coverImageDataUrl"):
        _changed, cover_name = _new_cover(character, data["coverImageDataUrl"])
    character.cover_image = cover_name
    db.session.add(character)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        covers.delete_cover(cover_name)
        raise
    return character


def update_character(user_id, character_id, data):
    """Change the fields given (others stay); the cover is replaced, kept or removed per `coverImageDataUrl`."""
    character = get_character(user_id, character_id)
    old_cover = character.cover_image
    changed = False
    if "coverImageDataUrl" in data:
        changed, character.cover_image = _new_cover(character, data["coverImageDataUrl"])
    _apply_fields(character, data)
    character.updated_at = utcnow()
    db.session.commit()
    if changed and old_cover:
        covers.delete_cover(old_cover)
    return character


def delete_character(user_id, character_id):
    """Soft delete: the character disappears from every view; its row and chats are kept."""
    character = get_character(user_id, character_id)
    character.deleted_at = utcnow()
    db.session.commit()


def import_card(user_id, raw):
    """A new character from an uploaded card file (V2/V3 JSON or PNG); a PNG card becomes the cover."""
    card, png = cards.read_card_file(raw)
    try:
        data = CharacterCardSchema().load(cards.card_to_fields(card))
    except ValidationError as exc:
        fields = ", ".join(sorted(exc.messages)) if isinstance(exc.messages, dict) else "card"
        details = {f"card.{k}": v for k, v in exc.messages.items()} if isinstance(exc.messages, dict) else None
        raise ApiError(400, "VALIDATION_ERROR", f"Invalid character card: bad {fields}", details) from None
    cover_name = None
    if png is not None:
        cover_name = covers.store_image(cards.strip_card_chunks(png), "PNG", field="file")
    return create_character(user_id, data, cover_name=cover_name)


def export_card(user_id, character_id, file_format):
    """(bytes, mimetype, download name) of the character as a V2 card, `json` or `png`."""
    character = get_character(user_id, character_id)
    card = cards.character_to_card(character)
    stem = re.sub(r"[^\w\- ]+", "", character.name).strip() or "character"
    if file_format == "json":
        return json.dumps(card, ensure_ascii=False, indent=2).encode("utf-8"), "application/json", f"{stem}.json"
    stored = covers.read_cover(character.cover_image) if character.cover_image else None
    return cards.png_card(card, stored[0] if stored else None), "image/png", f"{stem}.png"
