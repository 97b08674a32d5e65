"""UTC time helpers: one clock and one wire format (ISO 8601 with `Z`, or epoch milliseconds)."""
from datetime import datetime, timezone


def utcnow():
    """The current UTC time as a naive datetime (how every table stores time)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso(value):
    """`2024-01-01T12:00:00Z` for a stored naive-UTC datetime; None stays None."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def epoch_ms(value):
    """Epoch milliseconds for a stored naive-UTC datetime (LightTavern's timestamps)."""
    if value is None:
        return None
    return int(value.replace(tzinfo=timezone.utc).timestamp() * 1000)
