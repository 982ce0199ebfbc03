"""Mentoring (老带新): an experienced manager paired with a new one; completing the pairing credits both."""
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ...errors import DomainError
from ...extensions import db
from ...models import Course, CourseType, Employee, Mentoring, MentoringStatus
from ...timeutil import bank_today
from .. import audit
from ..unit_of_work import unit_of_work
from . import ledger


@unit_of_work()
def pair(mentor: Employee, mentee: Employee, course: Course, on: date | None = None, actor=None) -> Mentoring:
    """Pair an experienced manager with a new one for a mentoring course, unless the two are already paired for it
    (a pairing sent twice would credit them twice). Unit of work."""
    if course.type != CourseType.MENTORING:
        raise DomainError(_l("Choose a mentoring course."))
    if mentor.id == mentee.id:
        raise DomainError(_l("A mentor cannot mentor themself."))
    if mentor.grade.rank <= mentee.grade.rank:
        raise DomainError(_l("The mentor must hold a higher grade than the new colleague."))
    already = db.session.scalar(select(Mentoring.id).where(
        Mentoring.mentor_id == mentor.id, Mentoring.mentee_id == mentee.id, Mentoring.course_id == course.id,
        Mentoring.status == MentoringStatus.ACTIVE))
    if already is not None:
        raise DomainError(_l("These two are already paired for this course."))
    mentoring = Mentoring(course=course, mentor=mentor, mentee=mentee, started_on=on or bank_today(),
                          created_by_id=getattr(actor, "id", None))
    db.session.add(mentoring)
    try:
        db.session.flush()
    except IntegrityError:  # the same pairing sent twice at once (a double click): one active pairing of the two
        raise DomainError(_l("These two are already paired for this course.")) from None
    audit.record("mentoring.pair", "mentoring", mentoring.id, actor=actor, mentor=mentor.staff_no, mentee=mentee.staff_no)
    return mentoring


@unit_of_work()
def complete_mentoring(mentoring: Mentoring, on: date | None = None, actor=None) -> None:
    """Complete a pairing: mentor and mentee each earn the course's credits, once. Unit of work."""
    if mentoring.status == MentoringStatus.COMPLETED:
        return
    if not mentoring.is_active:
        raise DomainError(_l("This pairing was cancelled."))
    on = on or bank_today()
    if on > bank_today() or on < mentoring.started_on:
        raise DomainError(_l("A pairing is completed between its start (%(start)s) and today, not on %(date)s.",
                             start=mentoring.started_on.isoformat(), date=on.isoformat()))
    claimed = db.session.execute(update(Mentoring).where(Mentoring.id == mentoring.id, Mentoring.status == MentoringStatus.ACTIVE)
                                 .values(status=MentoringStatus.COMPLETED, completed_on=on).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # completed meanwhile: the credits are already there
        return
    mentoring.status, mentoring.completed_on = MentoringStatus.COMPLETED, on
    ledger.award_mentoring(mentoring, on, actor)
    audit.record("mentoring.complete", "mentoring", mentoring.id, actor=actor)


def pairings(mentee_ids=None) -> list[Mentoring]:
    """Pairings (of the given mentees, a SELECT of ids, when given): active first, newest first."""
    query = select(Mentoring).order_by(Mentoring.status, Mentoring.started_on.desc())
    if mentee_ids is not None:
        query = query.where(Mentoring.mentee_id.in_(mentee_ids))
    return db.session.scalars(query).all()
