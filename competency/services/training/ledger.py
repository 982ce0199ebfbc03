"""The append-only credit ledger: credits earned (one query), yearly totals against the requirement,
compliance by org unit, corrections as reversing entries, hr's adjustments and the requirements."""
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, Integer, bindparam, case, func, insert, literal, select
from sqlalchemy.exc import IntegrityError

from ...errors import DomainError, FieldError
from ...extensions import db
from ...models import (
    Course,
    CreditEntry,
    CreditRequirement,
    CreditSource,
    Employee,
    EmployeeStatus,
    Enrolment,
    Grade,
    Mentoring,
)
from ...timeutil import bank_today, utcnow
from .. import audit
from ..org import rolled_up
from ..unit_of_work import unit_of_work


def year_range(year: int) -> tuple[date, date]:
    """[1 January of the year, 1 January of the next): a range the index on a date column can serve."""
    return date(year, 1, 1), date(year + 1, 1, 1)


def credits_earned(year: int, employee_ids=None):
    """Subquery (employee_id, earned): the net credits each person (of `employee_ids`, a list or SELECT, when
    given) earned in the year. The one query for "credits earned in a year"."""
    first, after = year_range(year)
    query = select(CreditEntry.employee_id, func.sum(CreditEntry.amount).label("earned")).where(
        CreditEntry.earned_on >= first, CreditEntry.earned_on < after)
    if employee_ids is not None:
        query = query.where(CreditEntry.employee_id.in_(employee_ids))
    return query.group_by(CreditEntry.employee_id).subquery()


def yearly_status(employee_ids, year: int):
    """SELECT (employee, credits earned in the year, the grade's requirement) for the given ids, by staff number."""
    earned = credits_earned(year, employee_ids)
    return (select(Employee, func.coalesce(earned.c.earned, 0).label("earned"),
                   func.coalesce(CreditRequirement.credits, 0).label("required"))
            .outerjoin(earned, earned.c.employee_id == Employee.id)
            .outerjoin(CreditRequirement, CreditRequirement.grade == Employee.grade)
            .where(Employee.id.in_(employee_ids))
            .order_by(Employee.staff_no))


def my_year(employee: Employee, year: int) -> tuple[Decimal, Decimal]:
    """(earned, required) for one person and year (one row of `yearly_status`, without loading the person again)."""
    earned, required = db.session.execute(_year_of_one(year), {"employee_id": employee.id, "grade": employee.grade}).one()
    return Decimal(earned), Decimal(required)


@lru_cache(maxsize=16)
def _year_of_one(year: int):
    """The statement of `my_year`, built once per year asked: building it costs more than running it."""
    earned = select(credits_earned(year, [bindparam("employee_id")]).c.earned).scalar_subquery()
    required = select(CreditRequirement.credits).where(CreditRequirement.grade == bindparam("grade")).scalar_subquery()
    return select(func.coalesce(earned, 0), func.coalesce(required, 0))


def compliance_by_unit(year: int, employee_ids=None) -> list[tuple[int, int, int]]:
    """(org unit id, people in its subtree, of whom meeting the year's requirement), computed in SQL."""
    earned = credits_earned(year, employee_ids)
    people = (select(Employee.id, Employee.org_unit_id,
                     case((func.coalesce(earned.c.earned, 0) >= func.coalesce(CreditRequirement.credits, 0), 1), else_=0).label("ok"))
              .outerjoin(earned, earned.c.employee_id == Employee.id)
              .outerjoin(CreditRequirement, CreditRequirement.grade == Employee.grade)
              .where(Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE])))
    if employee_ids is not None:
        people = people.where(Employee.id.in_(employee_ids))
    people = people.subquery()
    totals = rolled_up(db.session.execute(select(people.c.org_unit_id, func.count(people.c.id), func.sum(people.c.ok))
                                          .group_by(people.c.org_unit_id)))
    return [(unit, n, int(ok)) for unit, (n, ok) in totals.items()]


def ledger(employee_id: int, year: int | None = None):
    """SELECT of an employee's ledger lines (earned in the year, when given: the lines `credits_earned` sums),
    newest first."""
    query = select(CreditEntry).where(CreditEntry.employee_id == employee_id)
    if year is not None:
        first, after = year_range(year)
        query = query.where(CreditEntry.earned_on >= first, CreditEntry.earned_on < after)
    return query.order_by(CreditEntry.earned_on.desc(), CreditEntry.id.desc())


def reversed_ids(employee_id: int) -> set[int]:
    """Ids of the person's ledger lines that a later line reverses."""
    return set(db.session.scalars(select(CreditEntry.reverses_id).where(
        CreditEntry.employee_id == employee_id, CreditEntry.reverses_id.is_not(None))))


# --- writing the ledger ---------------------------------------------------------------------------


def award_completions(enrolment_ids: list[int], on: date, actor) -> None:
    """The credits of completions the caller has just claimed, a line per enrolment with its course's credits, by one
    INSERT … SELECT: the claim, a conditional UPDATE of the enrolments' status that only one of two simultaneous
    requests makes (the other waits for its locks, then finds them closed), is what makes them earned exactly once.
    `actor`: the account, or its id. Inside the caller's unit."""
    if not enrolment_ids:
        return
    lines = (select(Enrolment.employee_id, Course.credits, literal(on, Date), literal(CreditSource.ENROLMENT, CreditEntry.source.type),
                    Course.code, Enrolment.id, literal(getattr(actor, "id", actor), Integer), literal(utcnow(), DateTime))
             .join(Course, Course.id == Enrolment.course_id).where(Enrolment.id.in_(enrolment_ids)).order_by(Enrolment.id))
    db.session.execute(insert(CreditEntry).from_select(
        ["employee_id", "amount", "earned_on", "source", "reason", "enrolment_id", "created_by_id", "created_at"], lines))


def award_mentoring(mentoring: Mentoring, on: date, actor) -> None:
    """Mentor and mentee each earn the mentoring course's credits (inside the caller's unit)."""
    for person in (mentoring.mentor, mentoring.mentee):
        db.session.add(CreditEntry(employee_id=person.id, amount=mentoring.course.credits, earned_on=on,
                                   source=CreditSource.MENTORING, mentoring_id=mentoring.id,
                                   reason=mentoring.course.code, created_by_id=getattr(actor, "id", None)))


def is_reversed(entry: CreditEntry) -> bool:
    """Whether a later line reverses this one."""
    return db.session.scalar(select(CreditEntry.id).where(CreditEntry.reverses_id == entry.id)) is not None


def add_reversal(entry: CreditEntry, reason: str, actor) -> CreditEntry:
    """A line that cancels `entry`, with the reason (inside the caller's unit)."""
    reversal = CreditEntry(employee_id=entry.employee_id, amount=-entry.amount, earned_on=entry.earned_on,
                           source=entry.source, reason=reason.strip(), enrolment_id=entry.enrolment_id,
                           mentoring_id=entry.mentoring_id, reverses_id=entry.id, created_by_id=getattr(actor, "id", None))
    db.session.add(reversal)
    audit.record("credit.reverse", "credit_entry", entry.id, actor=actor, reason=reason.strip())
    return reversal


def reverse_enrolment_credits(enrolment: Enrolment, reason: str, actor) -> None:
    """Reverse every positive, not yet reversed line of the enrolment (inside the caller's unit)."""
    for entry in db.session.scalars(select(CreditEntry).where(CreditEntry.enrolment_id == enrolment.id,
                                                              CreditEntry.amount > 0)):
        if not is_reversed(entry):
            add_reversal(entry, reason, actor)


@unit_of_work()
def reverse(entry: CreditEntry, reason: str, actor=None) -> CreditEntry:
    """Cancel a ledger line with a reversing line (the original stays). Unit of work."""
    if not (reason or "").strip():
        raise DomainError(_l("Give a reason."))
    if entry.reverses_id is not None:
        raise DomainError(_l("A reversal cannot itself be reversed; add an adjustment instead."))
    if is_reversed(entry):
        raise DomainError(_l("This entry is already reversed."))
    return add_reversal(entry, reason, actor)


class AlreadyAdjusted(DomainError):
    """The adjustment form was sent again (a double click): its line is already in the ledger."""

    def __init__(self):
        super().__init__(_l("This adjustment is already in the ledger (the form was sent twice): nothing was added."))


@unit_of_work()
def adjust(employee: Employee, amount, reason: str, on: date | None = None, actor=None, key: str | None = None) -> CreditEntry:
    """hr: a manual adjustment (positive or negative) with a reason. `key`, the form's key, makes it once only: the
    same form sent again raises AlreadyAdjusted and adds nothing. Unit of work."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise DomainError(_l("The amount must be a number.")) from None
    if value == 0 or not value.is_finite():
        raise DomainError(_l("The amount cannot be zero."))
    if not (reason or "").strip():
        raise DomainError(_l("Give a reason."))
    if on is not None and on > bank_today():  # it would count towards a year, or a review, not yet reached
        raise FieldError("on", _l("Credits cannot be dated in the future (%(date)s is after today, %(today)s).",
                                  date=on.isoformat(), today=bank_today().isoformat()))
    key = (key or "").strip() or None
    if key is not None and db.session.scalar(select(CreditEntry.id).where(CreditEntry.request_key == key)) is not None:
        raise AlreadyAdjusted()
    entry = CreditEntry(employee_id=employee.id, amount=value, earned_on=on or bank_today(), source=CreditSource.ADJUSTMENT,
                        reason=reason.strip(), request_key=key, created_by_id=getattr(actor, "id", None))
    db.session.add(entry)
    try:
        db.session.flush()
    except IntegrityError:  # the same form sent twice at once: the other request added the line
        raise AlreadyAdjusted() from None
    audit.record("credit.adjust", "credit_entry", entry.id, actor=actor, employee=employee.staff_no, amount=value)
    return entry


# --- requirements -------------------------------------------------------------------------------


def requirements() -> dict[Grade, Decimal]:
    """The yearly credit requirement of each grade (0 where none is set)."""
    found = {r.grade: r.credits for r in db.session.scalars(select(CreditRequirement))}
    return {g: found.get(g, Decimal(0)) for g in Grade}


@unit_of_work()
def set_requirements(values: dict, actor=None) -> None:
    """hr: set the yearly credit requirement per grade. Unit of work."""
    current = {r.grade: r for r in db.session.scalars(select(CreditRequirement))}
    for grade, credits in values.items():
        credits = Decimal(str(credits))
        if credits < 0:
            raise DomainError(_l("Credits cannot be negative."))
        row = current.get(Grade(grade)) or CreditRequirement(grade=Grade(grade))
        row.credits = credits
        db.session.add(row)
    audit.record("credit.requirements", "credit_requirement", None, actor=actor,
                 **{Grade(g).value: str(v) for g, v in values.items()})
