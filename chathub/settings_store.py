"""Runtime settings an admin changes without a restart (registration, default model, limits).

Stored in the database so every worker and instance sees the same values; read through a
short per-process cache so hot paths (rate limiting) do not query on every request.
"""
import time

from flask import current_app, has_app_context
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from chathub.extensions import db


class RuntimeSetting(db.Model):
    """One admin-set runtime setting; `value` is JSON."""

    __tablename__ = "runtime_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(db.JSON, nullable=True)


_CACHE_SECONDS = 2.0
_cache = {"at": 0.0, "values": {}, "app": None}


def invalidate():
    """Forget cached values (after a write in this process)."""
    _cache["at"] = 0.0


def all_runtime_settings():
    """Every stored runtime setting as a dict (cached for a couple of seconds)."""
    now = time.monotonic()
    app = current_app._get_current_object()
    if _cache["app"] is app and now - _cache["at"] < _CACHE_SECONDS:
        return _cache["values"]
    try:
        rows = db.session.execute(db.select(RuntimeSetting)).scalars().all()
        values = {row.key: row.value for row in rows}
    except Exception:  # noqa: BLE001 - no table yet (before migrations) or database down
        db.session.rollback()
        values = {}
    _cache.update(at=now, values=values, app=app)
    return values


def runtime_setting(key, default=None):
    """One runtime setting, or `default` when unset (or outside an app context)."""
    if not has_app_context():
        return default
    value = all_runtime_settings().get(key)
    return default if value is None else value


def set_runtime_settings(values):
    """Store several runtime settings at once (None removes one)."""
    for key, value in values.items():
        row = db.session.get(RuntimeSetting, key)
        if value is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(RuntimeSetting(key=key, value=value))
        else:
            row.value = value
    db.session.commit()
    invalidate()
