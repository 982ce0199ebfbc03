"""What is due, and by whom: the deadline rules, one home (docs/domain.md, "People are told").

Each rule is one SELECT yielding the same columns — `kind`, `object_type`, `object_id`, `employee_id` (the person it
concerns), `user_id` (the account that must act), `due` (the deadline; none for hr's queues), `title_zh`/`title_en`
(what it is about, for lists and messages) — and serves two readers:
- **one user's to-do list** (`Scope.ONE`): restricted to what that user must act on, by an indexed column (the
  person's own rows, a supervisor's reports), the user's id passed in as a parameter;
- **the bank-wide reminder run** (`Scope.ALL`): no restriction, the account that must act joined in (active accounts
  with the role the action needs), optionally only the rows whose deadline falls on given days (`due_on`, e.g. in 7
  days and tomorrow) or has passed by a day (`due_until`), filtered on the deadline's own column, so the run reads
  only what is due on its reminder days.

The rules (who must act):
- `self_assessment`: my self-assessment to submit, by the cycle's self deadline (the person);
- `team_rating`: a report's assessment to rate, by the cycle's supervisor deadline (the assessing supervisor);
- `probation`: a trainee's probation to confirm, from 14 days before it ends and while it is overdue (the direct
  supervisor); `trainees_ending` is the probation list's one query, which the dashboard's list shares;
- `course_due`: an assigned course with a due date, not yet completed (the person);
- `session_soon`: a session I hold a seat in, today or tomorrow (the person);
- `certification_expiring`: a certification expiring within 60 days that no later one of the same name replaces
  (the person);
- `appeal_open`: an appeal to resolve (hr); `review_undecided`: a draft annual review with undecided
  recommendations (hr; its title is the review's year);
- `credits_behind` / `team_credits_behind`: in the fourth quarter, fewer credits earned this year than the grade
  requires, by 31 December (the person / their direct supervisor).
Where an assessment was reopened after its cycle closed, it is still due (late, past the cycle's deadline).
"""
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache, partial

from sqlalchemy import Date, Integer, Select, and_, bindparam, cast, exists, func, literal, literal_column, null, or_, select, union_all
from sqlalchemy import String as SAString
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    Appeal,
    AppealStatus,
    Assessment,
    Certification,
    Course,
    CreditRequirement,
    Cycle,
    CycleStatus,
    Employee,
    EmployeeStatus,
    Enrolment,
    Grade,
    ProbationConfirmation,
    Recommendation,
    Reopening,
    ReviewRun,
    TrainingSession,
    User,
    UserRole,
)
from ..models.assessment import SELF_EDITABLE, SUPERVISOR_EDITABLE
from ..models.enums import Decision, RunStatus
from ..models.training import ACTIVE_STATUSES
from ..timeutil import bank_today
from . import access
from .training.ledger import credits_earned

# How far ahead each rule looks (days before the deadline that it becomes due).
PROBATION_DAYS = 14
CERTIFICATION_DAYS = 60
# The quarter in which credits behind the yearly requirement are due (October to December).
CREDITS_FROM_MONTH = 10


class Scope(enum.Enum):
    ONE = "one"   # one user's to-do list: parameters `user_id` and `employee_id`
    ALL = "all"   # the whole bank: the acting account joined in


@dataclass(frozen=True)
class Ask:
    """What a rule's SELECT is built for: the scope, the year (credits), and for the reminder run the deadlines
    wanted — on these days (`due_on`), or on or before a day (`due_until`) — filtered on the deadline's own column."""

    scope: Scope
    year: int
    due_on: tuple[date, ...] = ()
    due_until: date | None = None


def _columns(kind: str, object_type: str, object_id, employee_id, user_id, due, title_zh, title_en) -> list:
    return [literal_column(f"'{kind}'", SAString).label("kind"), literal_column(f"'{object_type}'", SAString).label("object_type"),
            object_id.label("object_id"), employee_id.label("employee_id"), user_id.label("user_id"), due.label("due"),
            title_zh.label("title_zh"), title_en.label("title_en")]


def _param(name: str, type_=Date):
    return bindparam(name, type_=type_)


def _me():
    return cast(_param("user_id", Integer), Integer)


def _may(account, permission: str):
    """SQL condition: the account holds a role that the permission allows (services/access.py's table)."""
    return exists(select(UserRole.user_id).where(UserRole.user_id == account.id, UserRole.role.in_(access.PERMISSIONS[permission])))


def account_of(query: Select, employee_column, permission: str | None) -> tuple[Select, object]:
    """Join the active account of the employee in `employee_column` (allowed `permission`, when given): (query, its id)."""
    account = aliased(User)
    query = query.join(account, and_(account.employee_id == employee_column, account.active.is_(True)))
    if permission is not None:
        query = query.where(_may(account, permission))
    return query, account.id


def _acting(query: Select, ask: Ask, employee_column, permission: str | None) -> tuple[Select, object]:
    """Who must act on each row: for one user's to-do list, the rows of the employee in `employee_column` that are
    theirs (the user's own account); bank-wide, that employee's active account (allowed `permission`, when given)."""
    if ask.scope is Scope.ONE:
        return query.where(employee_column == _param("employee_id", Integer)), _me()
    return account_of(query, employee_column, permission)


def _accounts_allowed(query: Select, permission: str) -> tuple[Select, object]:
    """Every active account allowed `permission`, joined to each row (hr's queues are all of hr's): (query, its id)."""
    account = aliased(User)
    query = query.join(account, and_(account.active.is_(True), _may(account, permission)))
    return query, account.id


def _within(query: Select, column, ask: Ask) -> Select:
    if ask.due_on:
        query = query.where(column.in_(ask.due_on))
    if ask.due_until is not None:
        query = query.where(column <= ask.due_until)
    return query


def _in_phase(statuses) -> object:
    """The assessment is in one of the phase's states and may be rated: its cycle open, or reopened after closing."""
    reopened = exists(select(Reopening.id).where(Reopening.assessment_id == Assessment.id))
    return and_(Assessment.status.in_(statuses), or_(Cycle.status == CycleStatus.OPEN, reopened))


def _self_assessment(ask: Ask) -> Select:
    query = select(Assessment.id).join(Cycle, Cycle.id == Assessment.cycle_id).where(_in_phase(SELF_EDITABLE))
    query, actor = _acting(query, ask, Assessment.employee_id, None)
    query = query.with_only_columns(*_columns("self_assessment", "assessment", Assessment.id, Assessment.employee_id, actor,
                                              Cycle.self_deadline, Cycle.name_zh, Cycle.name_en))
    return _within(query, Cycle.self_deadline, ask)


def _team_rating(ask: Ask) -> Select:
    query = (select(Assessment.id).join(Cycle, Cycle.id == Assessment.cycle_id).join(Employee, Employee.id == Assessment.employee_id)
             .where(_in_phase(SUPERVISOR_EDITABLE)))
    query, actor = _acting(query, ask, Assessment.supervisor_id, "team.lead")
    query = query.with_only_columns(*_columns(
        "team_rating", "assessment", Assessment.id, Assessment.employee_id, actor, Cycle.supervisor_deadline,
        Employee.name_zh + " · " + Cycle.name_zh, Employee.name_en + " · " + Cycle.name_en))
    return _within(query, Cycle.supervisor_deadline, ask)


def trainees_ending(until) -> Select:
    """SELECT of the trainees (on probation or active) whose probation ends on or before `until` (a date or a
    parameter): the one query behind the probation rule and the dashboard's list of probation periods ending."""
    return select(Employee).where(Employee.grade == Grade.TRAINEE,
                                  Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE]),
                                  Employee.probation_end <= until)


def _probation(ask: Ask) -> Select:
    confirmed = exists(select(ProbationConfirmation.id).where(ProbationConfirmation.employee_id == Employee.id))
    query = trainees_ending(_param("probation_until")).where(~confirmed)
    query, actor = _acting(query, ask, Employee.supervisor_id, "team.lead")
    query = query.with_only_columns(*_columns("probation", "employee", Employee.id, Employee.id, actor, Employee.probation_end,
                                              Employee.name_zh, Employee.name_en))
    return _within(query, Employee.probation_end, ask)


def _course_due(ask: Ask) -> Select:
    query = (select(Enrolment.id).join(Course, Course.id == Enrolment.course_id)
             .where(Enrolment.status.in_(ACTIVE_STATUSES), Enrolment.due_date.is_not(None)))
    query, actor = _acting(query, ask, Enrolment.employee_id, None)
    query = query.with_only_columns(*_columns("course_due", "enrolment", Enrolment.id, Enrolment.employee_id, actor,
                                              Enrolment.due_date, Course.title_zh, Course.title_en))
    return _within(query, Enrolment.due_date, ask)


def _session_soon(ask: Ask) -> Select:
    # Sessions hold local times (as entered); a day's sessions are those starting from its midnight to the next.
    starts = TrainingSession.starts_at
    if ask.due_on:
        when = or_(*(and_(starts >= _midnight(day), starts < _midnight(day + timedelta(days=1))) for day in ask.due_on))
    else:
        when = and_(starts >= _param("today_start", db.DateTime), starts < _param("session_until", db.DateTime))
    query = (select(Enrolment.id).join(TrainingSession, TrainingSession.id == Enrolment.session_id)
             .join(Course, Course.id == Enrolment.course_id)
             .where(Enrolment.status.in_(ACTIVE_STATUSES), when))
    query, actor = _acting(query, ask, Enrolment.employee_id, None)
    day = db.type_coerce(func.date(TrainingSession.starts_at), Date)  # date() in SQLite and PostgreSQL alike
    return query.with_only_columns(*_columns("session_soon", "enrolment", Enrolment.id, Enrolment.employee_id, actor, day,
                                             Course.title_zh, Course.title_en))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _certification_expiring(ask: Ask) -> Select:
    later = aliased(Certification)
    renewed = exists(select(later.id).where(later.employee_id == Certification.employee_id, later.name == Certification.name,
                                            later.id != Certification.id,
                                            or_(later.expires_on.is_(None), later.expires_on > Certification.expires_on)))
    query = select(Certification.id).where(Certification.expires_on >= _param("today"),
                                           Certification.expires_on <= _param("certification_until"), ~renewed)
    query, actor = _acting(query, ask, Certification.employee_id, None)
    query = query.with_only_columns(*_columns("certification_expiring", "certification", Certification.id, Certification.employee_id,
                                              actor, Certification.expires_on, Certification.name, Certification.name))
    return _within(query, Certification.expires_on, ask)


def _appeal_open(ask: Ask) -> Select:
    query = select(Appeal.id).join(Employee, Employee.id == Appeal.employee_id).where(Appeal.status == AppealStatus.OPEN)
    query, actor = (query, _me()) if ask.scope is Scope.ONE else _accounts_allowed(query, "appeals.resolve")
    return query.with_only_columns(*_columns("appeal_open", "appeal", Appeal.id, Appeal.employee_id, actor, cast(null(), Date),
                                             Employee.name_zh, Employee.name_en))


def _review_undecided(ask: Ask) -> Select:
    undecided = exists(select(Recommendation.id).where(Recommendation.run_id == ReviewRun.id,
                                                       Recommendation.decision == Decision.PENDING))
    query = select(ReviewRun.id).where(ReviewRun.status == RunStatus.DRAFT, undecided)
    query, actor = (query, _me()) if ask.scope is Scope.ONE else _accounts_allowed(query, "review.manage")
    year = cast(ReviewRun.year, SAString)
    return query.with_only_columns(*_columns("review_undecided", "review_run", ReviewRun.id, cast(null(), Integer), actor,
                                             cast(null(), Date), year, year))


def _behind(kind: str, team: bool, ask: Ask) -> Select:
    """People active or on probation who earned fewer credits in `year` than their grade requires (their own row, or
    their direct supervisor's with `team`)."""
    # One person's to-do list: the team (or the person) by their indexed column, in the sum and in the people read
    whose = (Employee.supervisor_id if team else Employee.id) == _param("employee_id", Integer)
    earned = credits_earned(ask.year, select(Employee.id).where(whose) if ask.scope is Scope.ONE else None)
    query = (select(Employee.id).join(CreditRequirement, CreditRequirement.grade == Employee.grade)
             .outerjoin(earned, earned.c.employee_id == Employee.id)
             .where(Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE]),
                    func.coalesce(earned.c.earned, 0) < CreditRequirement.credits))
    query, actor = _acting(query, ask, Employee.supervisor_id if team else Employee.id, "team.lead" if team else None)
    year_end = literal(date(ask.year, 12, 31), Date)
    query = query.with_only_columns(*_columns(kind, "employee", Employee.id, Employee.id, actor, year_end,
                                              Employee.name_zh, Employee.name_en))
    return _within(query, year_end, ask)


@dataclass(frozen=True)
class Rule:
    """A deadline rule: its kind, the permission (of services/access.py) the acting account needs — None when the
    person concerned acts themself — whether it holds only in the fourth quarter, and its SELECT's builder."""

    kind: str
    permission: str | None
    build: Callable[[Ask], Select]
    fourth_quarter: bool = False

    def select(self, ask: Ask) -> Select:
        """The rule's SELECT (the columns of the module's docstring) for what is asked."""
        return self.build(ask)

    def applies_to(self, user) -> bool:
        """Whether the user may have something to do under this rule: a person for their own items, else the
        permission (and, for a team, an employee record to lead from)."""
        if self.permission is None:
            return user.employee_id is not None
        if self.permission == "team.lead":
            return access.leads_a_team(user)
        return access.can(user, self.permission)

    def holds_on(self, today: date) -> bool:
        """Whether the rule yields anything on that day (credits are due only in the fourth quarter)."""
        return not self.fourth_quarter or today.month >= CREDITS_FROM_MONTH


# In the order the to-do list shows them: deadlines of one's own first, then the team's, then hr's queues.
RULES: tuple[Rule, ...] = (
    Rule("self_assessment", None, _self_assessment),
    Rule("course_due", None, _course_due),
    Rule("session_soon", None, _session_soon),
    Rule("certification_expiring", None, _certification_expiring),
    Rule("credits_behind", None, partial(_behind, "credits_behind", False), fourth_quarter=True),
    Rule("team_rating", "team.lead", _team_rating),
    Rule("probation", "team.lead", _probation),
    Rule("team_credits_behind", "team.lead", partial(_behind, "team_credits_behind", True), fourth_quarter=True),
    Rule("appeal_open", "appeals.resolve", _appeal_open),
    Rule("review_undecided", "review.manage", _review_undecided),
)
BY_KIND: dict[str, Rule] = {rule.kind: rule for rule in RULES}


def parameters(today: date, user=None) -> dict:
    """The values of the rules' parameters on that day (and for that user's to-do list)."""
    found = {"today": today, "probation_until": today + timedelta(days=PROBATION_DAYS),
             "certification_until": today + timedelta(days=CERTIFICATION_DAYS),
             "today_start": _midnight(today), "session_until": _midnight(today + timedelta(days=2))}
    if user is not None:
        found.update(user_id=user.id, employee_id=user.employee_id)
    return found


# --- one user's to-do list ------------------------------------------------------------------------

# Each group of the to-do list shows this many items, with the count and a link to the full list.
TODO_ROWS = 5


@dataclass(frozen=True)
class Item:
    """One thing the user must do, and by when (`due` None: no deadline, e.g. an appeal waiting for hr)."""

    kind: str
    object_type: str
    object_id: int
    employee_id: int | None
    due: date | None
    title_zh: str
    title_en: str

    def days_left(self, today: date) -> int | None:
        """Days until the deadline: 0 on the day, negative once overdue (None without a deadline)."""
        return None if self.due is None else (self.due - today).days


@dataclass(frozen=True)
class Group:
    """The first items of one rule for the user (soonest deadline first) and how many there are."""

    kind: str
    items: list[Item]
    total: int

    @property
    def has_more(self) -> bool:
        return self.total > len(self.items)


def todo(user, today: date | None = None, limit: int = TODO_ROWS) -> list[Group] | None:
    """The user's to-do list: for every rule that applies to them, the first `limit` items (soonest deadline first)
    and the count — all in one statement, each rule restricted to the user by an indexed column. None when no rule
    applies to the user at all (an account without an employee record or a role that acts)."""
    today = today or bank_today()
    if not any(rule.applies_to(user) for rule in RULES):
        return None
    kinds = tuple(rule.kind for rule in RULES if rule.holds_on(today) and rule.applies_to(user))
    if not kinds:
        return []
    rows = db.session.execute(_todo_statement(kinds, today.year, limit), parameters(today, user)).all()
    groups: dict[str, Group] = {}
    for row in rows:
        group = groups.setdefault(row.kind, Group(row.kind, [], row.total))
        group.items.append(Item(row.kind, row.object_type, row.object_id, row.employee_id, row.due, row.title_zh, row.title_en))
    return [groups[kind] for kind in kinds if kind in groups]


@lru_cache(maxsize=64)
def _todo_statement(kinds: tuple[str, ...], year: int, limit: int) -> Select:
    """The to-do list's statement for that set of rules, built once (building it costs more than running it)."""
    ask = Ask(Scope.ONE, year)
    rows = union_all(*(BY_KIND[kind].select(ask) for kind in kinds)).subquery("due_rows")
    ranked = select(rows, func.count().over(partition_by=rows.c.kind).label("total"), func.row_number().over(
        partition_by=rows.c.kind, order_by=(rows.c.due.is_(None), rows.c.due, rows.c.object_id)).label("rank")).subquery("ranked")
    return select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.kind, ranked.c.rank)
