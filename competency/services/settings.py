"""Settings hr or admin change at run time (stored in the `setting` table)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import Setting
from . import audit
from .unit_of_work import unit_of_work

PROBATION_MONTHS = "probation_months"


def probation_months(default: int = 3) -> int:
    """The probation length in months (the stored setting, else the default)."""
    value = db.session.scalar(select(Setting.value).where(Setting.key == PROBATION_MONTHS))
    return int(value) if value is not None else default


@unit_of_work()
def set_probation_months(months: int, actor=None) -> None:
    """Change the probation length used for new hires. Unit of work."""
    if not 1 <= months <= 24:
        raise DomainError(_l("Probation lasts from 1 to 24 months."))
    setting = db.session.get(Setting, PROBATION_MONTHS) or Setting(key=PROBATION_MONTHS)
    setting.value = str(months)
    db.session.add(setting)
    audit.record("setting.update", "setting", PROBATION_MONTHS, actor=actor, value=months)
