"""Preset rules: per-user CRUD, one default preset at most, and the lookup the chat relay uses."""
from sqlalchemy import func, select, update

from chathub.errors import ApiError, not_found
from chathub.extensions import db
from chathub.pagination import paginate
from chathub.presets.models import Preset

INT_MAX = 2**31 - 1


def get_preset(user_id, preset_id):
    """The user's preset with this id, or 404 (another user's preset is a 404 too)."""
    preset = db.session.execute(
        select(Preset).where(Preset.id == preset_id, Preset.user_id == user_id)
    ).scalars().first()
    if preset is None:
        raise not_found("Preset")
    return preset


def preset_for_chat(user_id, preset_id):
    """The Preset a chat applies: the one named by `preset_id` (404 if it is not the user's), or, when
    `preset_id` is None, the user's default preset (None if there is none)."""
    if preset_id is None:
        return db.session.execute(
            select(Preset).where(Preset.user_id == user_id, Preset.is_default.is_(True))
        ).scalars().first()
    try:
        number = int(preset_id)
    except (TypeError, ValueError):
        raise not_found("Preset") from None
    if isinstance(preset_id, bool) or not 1 <= number <= INT_MAX:
        raise not_found("Preset")
    return get_preset(user_id, number)


def list_presets(user_id, page, page_size):
    """A page of the user's presets: the default first, then by name."""
    statement = (
        select(Preset).where(Preset.user_id == user_id).order_by(Preset.is_default.desc(), Preset.name, Preset.id)
    )
    return paginate(statement, page, page_size)


def _ensure_unique_name(user_id, name, exclude_id=None):
    statement = select(Preset.id).where(Preset.user_id == user_id, func.lower(Preset.name) == name.lower())
    if exclude_id is not None:
        statement = statement.where(Preset.id != exclude_id)
    if db.session.execute(statement).first() is not None:
        raise ApiError(409, "CONFLICT", f"You already have a preset named {name!r}", {"name": ["Already in use"]})


def _clear_default(user_id, keep_id=None):
    statement = update(Preset).where(Preset.user_id == user_id, Preset.is_default.is_(True))
    if keep_id is not None:
        statement = statement.where(Preset.id != keep_id)
    db.session.execute(statement.values(is_default=False))


def create_preset(user_id, data):
    """A new preset; making it the default unsets the previous default."""
    _ensure_unique_name(user_id, data["name"])
    preset = Preset(user_id=user_id, **{"system_prompt": "", "is_default": False, **data})
    if preset.is_default:
        _clear_default(user_id)
    db.session.add(preset)
    db.session.commit()
    return preset


def update_preset(user_id, preset_id, data):
    """Change the fields given; 409 if the new name is taken by another of the user's presets."""
    preset = get_preset(user_id, preset_id)
    if "name" in data:
        _ensure_unique_name(user_id, data["name"], exclude_id=preset.id)
    for key, value in data.items():
        setattr(preset, key, value)
    if data.get("is_default"):
        _clear_default(user_id, keep_id=preset.id)
    db.session.commit()
    return preset


def delete_preset(user_id, preset_id):
    """Delete one of the user's presets."""
    db.session.delete(get_preset(user_id, preset_id))
    db.session.commit()
