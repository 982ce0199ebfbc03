"""Probation (试用期): the supervisor confirms a trainee qualified (合格) or not before the review confirms them."""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...errors import DomainError
from ...extensions import db
from ...models import Employee, EmployeeStatus, Grade, ProbationConfirmation
from ...timeutil import bank_today
from .. import audit
from ..unit_of_work import unit_of_work


@unit_of_work()
def confirm_probation(employee: Employee, qualified: bool, comment: str = "", on: date | None = None, actor=None) -> ProbationConfirmation:
    """The supervisor's confirmation of a trainee: qualified (合格) or not. Unit of work."""
    if not employee.is_trainee:
        raise DomainError(_l("Only a trainee's probation is confirmed."))
    if not qualified and not (comment or "").strip():
        raise DomainError(_l("Say why the probation is not passed."))
    item = db.session.scalar(select(ProbationConfirmation).where(ProbationConfirmation.employee_id == employee.id))
    item = item or ProbationConfirmation(employee=employee)
    item.qualified, item.comment, item.confirmed_on = qualified, (comment or "").strip(), on or bank_today()
    item.confirmed_by_id = getattr(actor, "id", None)
    db.session.add(item)
    db.session.flush()
    audit.record("probation.confirm", "employee", employee.id, actor=actor, qualified=qualified, comment=item.comment)
    return item


def trainees_to_confirm(employee_ids) -> list[tuple[Employee, ProbationConfirmation | None]]:
    """Trainees among the ids (on probation or active) with their confirmation, probation end first."""
    people = db.session.scalars(select(Employee).where(
        Employee.id.in_(employee_ids), Employee.grade == Grade.TRAINEE,
        Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE])).order_by(Employee.probation_end)).all()
    found = {c.employee_id: c for c in db.session.scalars(select(ProbationConfirmation).where(
        ProbationConfirmation.employee_id.in_([p.id for p in people])))}
    return [(p, found.get(p.id)) for p in people]
