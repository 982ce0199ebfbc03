"""Time helpers: the database stores naive UTC datetimes; people read them in the bank's time zone
(COMPETENCY_TIMEZONE)."""
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app


def utcnow() -> datetime:
    """The current time as a naive UTC datetime."""
    return datetime.now(UTC).replace(tzinfo=None)


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    """The time zone of that IANA name (e.g. Asia/Shanghai); ValueError naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Asia/Shanghai") from error


def bank_zone() -> ZoneInfo:
    """The bank's time zone, from the app's TIMEZONE setting."""
    return zone(current_app.config["TIMEZONE"])


def bank_today() -> date:
    """Today in the bank's time zone, whatever the server's own (on a server kept on UTC, a bank in Beijing's day
    would begin at 08:00: deadlines, completions "in the future", token expiry and effective dates a day behind)."""
    return datetime.now(bank_zone()).date()


def bank_now() -> datetime:
    """The bank's wall-clock time now, naive: as people enter times (a training session's start)."""
    return datetime.now(bank_zone()).replace(tzinfo=None)


def bank_time(at: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as a naive time in the bank's time zone."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC).astimezone(bank_zone()).replace(tzinfo=None)


def bank_day_start(day: date) -> datetime:
    """The (naive UTC) moment the bank's calendar day begins: what a date filter compares stored times with."""
    return datetime.combine(day, time(), tzinfo=bank_zone()).astimezone(UTC).replace(tzinfo=None)
