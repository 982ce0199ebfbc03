"""The course catalogue and its sessions."""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...errors import DomainError, FieldError
from ...extensions import db
from ...models import LEVELS, Course, CourseCompetency, CourseType, Delivery, TrainingSession
from ...models.limits import digits_within
from ...timeutil import bank_now, bank_today
from .. import audit
from ..ksa.versions import published_codes
from ..unit_of_work import unit_of_work


def parse_competencies(text: str) -> dict[str, int]:
    """`S1:3;S2:3` → {"S1": 3, "S2": 3}; ValueError names the bad part."""
    result: dict[str, int] = {}
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        code, _, level = part.partition(":")
        code = code.strip()
        number = digits_within(level.strip(), min(LEVELS), max(LEVELS))
        if not code or number is None or code in result:
            raise ValueError(part)
        result[code] = number
    return result


def unknown_codes(codes, known: set[str] | None = None) -> list[str]:
    """The competency codes, among `codes`, that no published model version has (`known`: those it has, when
    already read), sorted."""
    known = published_codes() if known is None else known
    return sorted(set(codes) - known)


def unknown_codes_message(codes: list[str]):
    """The message naming unknown competency codes."""
    return _l("Unknown competency code %(codes)s: use the codes of a published competency model (for example K1 or S5).",
              codes=", ".join(codes))


@dataclass
class CourseValues:
    code: str
    title_zh: str
    title_en: str
    type: str
    delivery: str
    hours: Decimal
    credits: Decimal
    competencies: dict
    description_zh: str = ""
    description_en: str = ""
    active: bool = True


def apply_course(course: Course, values: CourseValues) -> bool:
    """Copy the values onto the course; return whether anything changed (the caller's unit of work flushes)."""
    changed = False
    fields = {"title_zh": values.title_zh, "title_en": values.title_en, "type": CourseType(values.type),
              "delivery": Delivery(values.delivery), "hours": Decimal(values.hours), "credits": Decimal(values.credits),
              "description_zh": values.description_zh, "description_en": values.description_en, "active": values.active}
    for key, value in fields.items():
        if getattr(course, key) != value:
            setattr(course, key, value)
            changed = True
    current = {c.competency_code: c.up_to_level for c in course.competencies}
    if current != values.competencies:
        course.competencies = [CourseCompetency(competency_code=k, up_to_level=v) for k, v in sorted(values.competencies.items())]
        changed = True
    return changed


@unit_of_work()
def save_course(values: CourseValues, course: Course | None = None, actor=None) -> Course:
    """Create or update a course. Unit of work."""
    if Decimal(values.credits) < 0:
        raise DomainError(_l("Credits cannot be negative."))
    if Decimal(values.hours) <= 0:
        raise DomainError(_l("Hours must be positive."))
    unknown = unknown_codes(values.competencies)
    if unknown:
        raise FieldError("competencies", unknown_codes_message(unknown))
    clash = db.session.scalar(select(Course.id).where(Course.code == values.code.strip()))
    if clash is not None and (course is None or clash != course.id):
        raise DomainError(_l("Another course already has the code %(code)s.", code=values.code))
    creating = course is None
    if creating:
        course = Course(code=values.code.strip())
        db.session.add(course)
    course.code = values.code.strip()
    apply_course(course, values)
    db.session.flush()
    audit.record("course.create" if creating else "course.update", "course", course.id, actor=actor, code=course.code)
    return course


def courses(active_only: bool = False):
    """SELECT of courses by code."""
    query = select(Course).order_by(Course.code)
    return query.where(Course.active.is_(True)) if active_only else query


def _minutes(*moments: datetime) -> tuple[datetime, ...]:
    return tuple(m.replace(second=0, microsecond=0) for m in moments)


class PastSession(FieldError):
    """A session planned (or moved) to start in the past, without the planner's confirmation."""

    def __init__(self, starts_at: datetime):
        super().__init__("starts_at", _l(
            "This session starts in the past (%(start)s). Nobody can enrol in a session once it has started: only the "
            "people already enrolled stay on its roster, and their results can be dated from its start. Tick the "
            "confirmation to save it anyway.", start=starts_at.strftime("%Y-%m-%d %H:%M")))


@unit_of_work()
def save_session(course: Course, values: dict, session: TrainingSession | None = None, actor=None,
                 confirm_past: bool = False) -> TrainingSession:
    """Create or update a session (starts_at, ends_at, place, trainer_id, capacity, open). Planning one, or moving
    one, to start in the past needs `confirm_past` (PastSession otherwise). Unit of work."""
    if values["ends_at"] < values["starts_at"]:
        raise DomainError(_l("A session cannot end before it starts."))
    # to the minute, as the form gives them
    moved = session is None or _minutes(values["starts_at"], values["ends_at"]) != _minutes(session.starts_at, session.ends_at)
    # sessions keep the local time they were planned in, so they are compared with the local time
    in_past = moved and values["starts_at"] < bank_now()
    if in_past and not confirm_past:
        raise PastSession(values["starts_at"])
    if values["capacity"] < 1:
        raise DomainError(_l("Capacity must be at least 1."))
    if session is not None and values["capacity"] < session.seats_taken:
        raise DomainError(_l("%(n)s people are already enrolled: the capacity cannot be lower.", n=session.seats_taken))
    creating = session is None
    session = session or TrainingSession(course=course, seats_taken=0)
    for key in ("starts_at", "ends_at", "place", "trainer_id", "capacity", "open"):
        setattr(session, key, values[key])
    db.session.add(session)
    db.session.flush()
    audit.record("session.create" if creating else "session.update", "training_session", session.id, actor=actor,
                 **({"in_the_past": True} if in_past else {}))
    return session


def open_sessions(today: date | None = None):
    """Sessions open for enrolment that have not started, soonest first."""
    today = today or bank_today()
    return db.session.scalars(
        select(TrainingSession).join(Course)
        .where(TrainingSession.open.is_(True), Course.active.is_(True), TrainingSession.starts_at >= today)
        .order_by(TrainingSession.starts_at)
    ).all()
