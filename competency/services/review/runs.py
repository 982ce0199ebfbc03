"""Review runs: check a year's readiness, load everyone's year in a fixed number of queries, apply the rules
(engine.py) and store the recommendations with their explanations; a re-run keeps decisions that still hold."""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import String, Text, cast, delete, func, select, type_coerce, update

from ...errors import DomainError
from ...extensions import db
from ...models import (
    AnnualSales,
    Cycle,
    CycleStatus,
    Decision,
    Employee,
    EmployeeStatus,
    Grade,
    Position,
    ProbationConfirmation,
    Recommendation,
    ReviewAction,
    ReviewRun,
    RunStatus,
)
from ...timeutil import bank_today, utcnow
from .. import audit, bulk
from ..assessments.results import latest_completed_query
from ..training.certifications import held_on
from ..training.ledger import credits_earned, year_range
from ..unit_of_work import unit_of_work
from .engine import PersonInput, Standard, evaluate, missing_data
from .standards import standards_query


def load_standards() -> tuple[dict[int, dict[Grade, Standard]], dict[int, str]]:
    """Standards by position and grade, and each position's sales unit."""
    standards: dict[int, dict[Grade, Standard]] = {}
    for row in db.session.scalars(standards_query()):
        standards.setdefault(row.position_id, {})[row.grade] = Standard(
            row.min_sales, row.min_score, row.min_credits, row.certification or None)
    units = dict(db.session.execute(select(Position.id, Position.sales_unit)).all())
    return standards, units


def load_inputs(year: int, as_of: date, position_ids) -> list[PersonInput]:
    """Everyone in scope (active or on probation, in a position with standards) with the year's data,
    in a fixed number of queries."""
    people = {row[0]: PersonInput(*row) for row in db.session.execute(
        select(Employee.id, Employee.staff_no, Employee.grade, Employee.probation_end, Employee.org_unit_id, Employee.position_id)
        .where(Employee.status.in_([EmployeeStatus.ACTIVE, EmployeeStatus.PROBATION]), Employee.position_id.in_(list(position_ids))))}

    def fill(rows, attribute, convert=None):
        find = people.get
        for employee_id, value in rows:
            person = find(employee_id)
            if person is not None:
                setattr(person, attribute, value if convert is None else convert(value))

    fill(db.session.execute(select(AnnualSales.employee_id, AnnualSales.amount).where(AnnualSales.year == year)), "sales")
    earned = credits_earned(year)
    fill(db.session.execute(select(earned.c.employee_id, earned.c.earned)), "credits", Decimal)
    latest = latest_completed_query(year).subquery()
    fill(db.session.execute(select(latest.c.employee_id, latest.c.overall_score)), "score")
    fill(db.session.execute(select(ProbationConfirmation.employee_id, ProbationConfirmation.qualified)), "qualified")
    fill(held_on(as_of).items(), "certifications")
    # Only a below-junior finding hr accepted counts (rule 4): a rejected one, or a year with missing data, does not.
    fill(((e, True) for e in db.session.scalars(
        select(Recommendation.employee_id).join(ReviewRun)
        .where(ReviewRun.year == year - 1, ReviewRun.status == RunStatus.FINALISED, Recommendation.below_junior.is_(True),
               Recommendation.decision.in_([Decision.APPROVED, Decision.OVERRIDDEN])))),
        "below_junior_last_year")
    return sorted(people.values(), key=lambda p: p.staff_no)


@dataclass
class Readiness:
    """What is not ready for the review of a year: cycles still open, people without sales or a completed
    assessment (those would be referred to hr). Shown before a run; the run needs a confirmation when not ready."""

    year: int
    open_cycles: list = field(default_factory=list)
    missing_sales: list = field(default_factory=list)       # staff numbers
    missing_assessment: list = field(default_factory=list)  # staff numbers
    reviewed: int = 0

    @property
    def ready(self) -> bool:
        return not (self.open_cycles or self.missing_sales or self.missing_assessment)

    def warnings(self) -> list[str]:
        """The problems as sentences in the user's language."""
        found = []
        if self.open_cycles:
            found.append(str(_l("Cycles ending in %(year)s are still open: %(codes)s.", year=self.year,
                                codes=", ".join(c.code for c in self.open_cycles))))
        if self.missing_sales:
            found.append(str(lazy_ngettext("%(num)s person has no sales figure for %(year)s.",
                                           "%(num)s people have no sales figure for %(year)s.",
                                           len(self.missing_sales), year=self.year)))
        if self.missing_assessment:
            found.append(str(lazy_ngettext("%(num)s person has no completed assessment in %(year)s.",
                                           "%(num)s people have no completed assessment in %(year)s.",
                                           len(self.missing_assessment), year=self.year)))
        return found


def readiness(year: int, as_of: date | None = None) -> Readiness:
    """Check a year before its review: open cycles ending in it, people in scope lacking sales or an assessment."""
    first, after = year_range(year)
    found = Readiness(year, open_cycles=db.session.scalars(
        select(Cycle).where(Cycle.status == CycleStatus.OPEN, Cycle.period_end >= first, Cycle.period_end < after)
        .order_by(Cycle.code)).all())
    standards, _units = load_standards()
    for person in load_inputs(year, as_of or bank_today(), standards.keys()):
        if person.grade == Grade.TRAINEE:
            continue  # trainees are confirmed or referred on their probation, not on the year's data
        found.reviewed += 1
        missing = missing_data(person)
        if "sales" in missing:
            found.missing_sales.append(person.staff_no)
        if "assessment" in missing:
            found.missing_assessment.append(person.staff_no)
    return found


def get_run(year: int) -> ReviewRun | None:
    """The review of that performance year, if it was run."""
    return db.session.scalar(select(ReviewRun).where(ReviewRun.year == year))


def runs() -> list[ReviewRun]:
    """Every review run, newest year first."""
    return db.session.scalars(select(ReviewRun).order_by(ReviewRun.year.desc())).all()


def latest_run() -> ReviewRun | None:
    """The review of the most recent year that was run."""
    return db.session.scalar(select(ReviewRun).order_by(ReviewRun.year.desc()).limit(1))


def chosen_run(year: int | None) -> ReviewRun | None:
    """The review of the year a user chose, or of the most recent year run when they chose none: the review the
    analytics page charts and the recommendations export holds."""
    return get_run(year) if year else latest_run()


DECISION_FIELDS = ("decision", "final_grade", "decision_reason", "decided_by_id", "decided_at")
# The stored columns of a recommendation, in the order `_Rows` prepares them.
COLUMNS = ("run_id", "employee_id", "org_unit_id", "current_grade", "recommended_grade", "action", "below_junior",
           "data_missing", "explanation") + DECISION_FIELDS
# People evaluated and written at a time: the progress callback hears of each batch.
BATCH = 5_000


def _previous(run: ReviewRun) -> dict[int, tuple]:
    """The draft's recommendations by employee, as the driver gives them (codes, not enums; the explanation as its
    stored text), to be compared with and copied into new rows of driver values:
    (id, *STORED_COLUMNS, *DECISION_FIELDS)."""
    r = Recommendation

    def raw(name):
        column = getattr(r, name)
        if name == "explanation":
            return cast(column, Text)
        return type_coerce(column, String) if name in CODES else column
    rows = db.session.execute(select(r.employee_id, r.id, *(raw(name) for name in STORED_COLUMNS + DECISION_FIELDS))
                              .where(r.run_id == run.id))
    return {row[0]: tuple(row[1:]) for row in rows}


# Positions in a `_previous` tuple.
_ID, _STORED, _GRADE, _ACTION, _MISSING, _DECIDED = 0, slice(1, 8), 3, 4, 6, slice(8, 13)
STORED_COLUMNS = ("org_unit_id", "current_grade", "recommended_grade", "action", "below_junior", "data_missing",
                  "explanation")
CODES = ("current_grade", "recommended_grade", "action", "decision", "final_grade", "decided_at")


def _change(staff_no: str, old: tuple | None, grade: Grade | None, action: ReviewAction | None) -> dict:
    """What a re-run changed for one person: the recommendation before and after (None where there is none)."""
    change = {"staff_no": staff_no, "before": None if old is None else {"grade": old[_GRADE], "action": old[_ACTION]},
              "after": None if grade is None else {"grade": grade.value, "action": action.value}}
    if old is not None:
        change["decision"] = old[_DECIDED][0]
    return change


class _Rows:
    """Recommendations as rows of driver values (bulk.insert_rows), hr's decision carried where the recommendation
    did not change; on a re-run, what changed is collected in `changes`. A re-run leaves a stored row exactly as
    it would write it again in place (same values, same explanation): only the others are replaced."""

    def __init__(self, run: ReviewRun, before: dict[int, tuple], rerun: bool):
        self.run_id, self.before, self.rerun, self.changes = run.id, before, rerun, []
        self.replaced: list[int] = []  # ids of stored rows to remove before writing their successors
        self.kept = 0
        self.grade = bulk.driver_values(Recommendation.current_grade, Grade)
        self.action = bulk.driver_values(Recommendation.action, ReviewAction)
        self.pending = (bulk.driver_values(Recommendation.decision, [Decision.PENDING])[Decision.PENDING], None, "", None, None)

    def row(self, person: PersonInput, outcome) -> tuple | None:
        """One reviewed person's recommendation, or None when the stored one stays as it is."""
        decided = self.pending
        grade, action = self.grade[outcome.recommended], self.action[outcome.action]
        stored = (person.org_unit_id, self.grade[person.grade], grade, action, outcome.below_junior, outcome.data_missing,
                  bulk.json_text(outcome.explanation))
        old = self.before.pop(person.employee_id, None)
        if old is not None:
            if old[_STORED] == stored:
                self.kept += 1
                return None
            self.replaced.append(old[_ID])
        if old is not None and (old[_GRADE], old[_ACTION], old[_MISSING]) == (grade, action, outcome.data_missing):
            decided = old[_DECIDED]
        elif self.rerun:
            self.changes.append(_change(person.staff_no, old, outcome.recommended, outcome.action))
        return (self.run_id, person.employee_id, *stored, *decided)

    def remove_replaced(self) -> None:
        """Delete the stored rows replaced so far (before their successors are written: one row per person)."""
        if self.replaced:
            db.session.execute(delete(Recommendation).where(Recommendation.id.in_(self.replaced))
                               .execution_options(synchronize_session=False))
            self.replaced = []

    def remove_left(self) -> None:
        """Delete the stored rows of the people no longer reviewed (collected as changes first)."""
        ids = [old[_ID] for old in self.before.values()]
        for first in range(0, len(ids), BATCH):
            self.replaced = ids[first:first + BATCH]
            self.remove_replaced()

    def all_changes(self) -> list[dict]:
        """Every change, with the people no longer reviewed, by staff number."""
        ids, left = list(self.before), {}
        for first in range(0, len(ids), BATCH):
            left.update(db.session.execute(select(Employee.id, Employee.staff_no).where(Employee.id.in_(ids[first:first + BATCH]))).all())
        changes = self.changes + [_change(left[employee_id], old, None, None) for employee_id, old in self.before.items()]
        return sorted(changes, key=lambda c: c["staff_no"])


def _report(progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


@unit_of_work()
def run_review(year: int, as_of: date | None = None, actor=None,
               progress: Callable[[int, int], None] | None = None) -> ReviewRun:
    """Run the review of a performance year, or re-run its draft: decisions on recommendations that did not
    change are kept, and what changed is listed on the run (`rerun_changes`). `progress(done, total)` hears of
    the people in scope reviewed, batch by batch. Unit of work."""
    as_of = as_of or bank_today()
    run = get_run(year)
    if run is not None and run.is_finalised:
        raise DomainError(_l("The review of %(year)s is finalised and cannot be run again.", year=year))
    standards, units = load_standards()
    if not standards:
        raise DomainError(_l("No grade standards are set: hr sets them first."))
    before = {}
    if run is None:
        run = ReviewRun(year=year, as_of=as_of, created_by_id=getattr(actor, "id", None))
        db.session.add(run)
        db.session.flush()
    else:
        # Claim the draft first: a finalise that won the race leaves nothing to replace.
        claimed = db.session.execute(update(ReviewRun).where(ReviewRun.id == run.id, ReviewRun.status == RunStatus.DRAFT)
                                     .values(as_of=as_of).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            raise DomainError(_l("The review of %(year)s is finalised and cannot be run again.", year=year))
        before = _previous(run)
        run.as_of, run.created_at, run.created_by_id = as_of, utcnow(), getattr(actor, "id", None)
    people = load_inputs(year, as_of, standards.keys())
    _report(progress, 0, len(people))
    rows = _Rows(run, before, rerun=bool(before) or run.rerun_changes is not None)
    written = 0
    for first in range(0, len(people), BATCH):
        batch = []
        for person in people[first:first + BATCH]:
            outcome = evaluate(person, standards[person.position_id], units.get(person.position_id, ""), as_of)
            if outcome.reviewed:
                row = rows.row(person, outcome)
                if row is not None:
                    batch.append(row)
        rows.remove_replaced()
        written += bulk.insert_rows(Recommendation.__table__, COLUMNS, batch)
        _report(progress, min(first + BATCH, len(people)), len(people))
    run.rerun_changes = rows.all_changes() if rows.rerun else None
    rows.remove_left()
    audit.record("review.run", "review_run", run.id, actor=actor, year=year, people=written + rows.kept,
                 changed_since_last_run=None if run.rerun_changes is None else len(run.rerun_changes))
    return run


def recommendations_query(run: ReviewRun, action: str | None = None, unit_ids=None):
    """SELECT of a run's recommendations, optionally of one action and within some org units."""
    query = (select(Recommendation).join(Employee, Employee.id == Recommendation.employee_id)
             .where(Recommendation.run_id == run.id))
    if action:
        query = query.where(Recommendation.action == ReviewAction(action))
    if unit_ids is not None:
        query = query.where(Recommendation.org_unit_id.in_(unit_ids))
    return query.order_by(Employee.staff_no)


def action_counts(run: ReviewRun, employee_ids=None) -> dict[ReviewAction, int]:
    """Recommendations per action (of the people of a SELECT of employee ids, when given)."""
    query = select(Recommendation.action, func.count()).where(Recommendation.run_id == run.id)
    if employee_ids is not None:
        query = query.where(Recommendation.employee_id.in_(employee_ids))
    return dict(db.session.execute(query.group_by(Recommendation.action)).all())


def latest_finalised(employee_id: int) -> Recommendation | None:
    """The person's recommendation in the most recent finalised review."""
    return db.session.scalar(select(Recommendation).join(ReviewRun)
                             .where(Recommendation.employee_id == employee_id, ReviewRun.status == RunStatus.FINALISED)
                             .order_by(ReviewRun.year.desc()).limit(1))
