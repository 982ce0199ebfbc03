"""Time helpers: the database stores naive UTC datetimes."""
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as a naive UTC datetime."""
    return datetime.now(UTC).replace(tzinfo=None)
