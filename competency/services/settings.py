"""Settings hr or admin change at run time (stored in the `setting` table), with their defaults."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import Setting
from . import access, audit
from .unit_of_work import unit_of_work

PROBATION_MONTHS = "probation_months"
FOUR_EYES = "four_eyes"
APPEAL_DAYS = "appeal_days"


def _value(key: str) -> str | None:
    return db.session.scalar(select(Setting.value).where(Setting.key == key))


def probation_months(default: int = 3) -> int:
    """The probation length in months (the stored setting, else the default)."""
    value = _value(PROBATION_MONTHS)
    return int(value) if value is not None else default


def four_eyes() -> bool:
    """Whether finalising a review needs a second person (双人复核); on unless the bank turned it off."""
    return _value(FOUR_EYES) != "0"


def appeal_days() -> int:
    """How many days an employee has to acknowledge or appeal a result or a grade decision (default 7)."""
    value = _value(APPEAL_DAYS)
    return int(value) if value is not None else 7


def _store(key: str, value: str, actor) -> None:
    setting = db.session.get(Setting, key) or Setting(key=key)
    if setting.value != value:
        setting.value = value
        db.session.add(setting)
        audit.record("setting.update", "setting", key, actor=actor, value=value)


@unit_of_work()
def set_probation_months(months: int, actor=None) -> None:
    """Change the probation length used for new hires. Unit of work."""
    if not 1 <= months <= 24:
        raise DomainError(_l("Probation lasts from 1 to 24 months."))
    _store(PROBATION_MONTHS, str(months), actor)


@unit_of_work()
def save(*, probation: int, appeal_window: int, four_eyes_on: bool | None = None, actor=None) -> None:
    """Save the settings page: probation length, the appeal window and — an administrator's decision, never the
    hr who would then finalise alone — four-eyes finalising (None leaves it). Unit of work."""
    if not 1 <= appeal_window <= 90:
        raise DomainError(_l("The appeal window runs from 1 to 90 days."))
    set_probation_months(probation, actor=actor)
    _store(APPEAL_DAYS, str(appeal_window), actor)
    if four_eyes_on is not None and four_eyes_on != four_eyes():
        if actor is not None:
            access.require(actor, "settings.four_eyes")
        _store(FOUR_EYES, "1" if four_eyes_on else "0", actor)
