"""Reminders and escalation: what `flask notify run` tells people about deadlines, before it sends the e-mails.

Each reminder reads one deadline rule of services/due.py bank-wide — only the rows whose deadline falls on its
reminder days — and tells the account that must act with one INSERT … SELECT (each row's words, the title and the
deadline, built in SQL), whatever the number of people. Who is told what and when:
- before a deadline, on the exact days (`days_before`): a self-assessment and a course due (7 days and the day
  before), the team members' assessments to rate (7 and 1, the assessing supervisor: one notification saying how
  many, not one per person — a branch head may rate hundreds), a session (the day before),
  a certification (60 and 30 days), a probation ending (14 days, the direct supervisor), credits behind the
  yearly requirement in the fourth quarter (1 October, 1 and 24 December; the person and their supervisor);
- once overdue (`overdue`): a probation not confirmed the day after it ended (the supervisor);
- escalation (`escalate`): a self-assessment, a rating, a probation confirmation or a course overdue by 3 days is
  told to the supervisor of the one who must act (for a supervisor's task, the supervisor's supervisor).
Reminders on a given day are told at most once per recipient, kind, object and day (the notification's unique key,
inserted with ON CONFLICT DO NOTHING): a second run the same day, or a second server running at once, adds nothing.
Overdue and escalation notices are told once per recipient and object, ever: a run that missed days catches up
(the demo's overdue probation reaches the supervisor's bell on the first run), and nobody is told twice.

REMINDERS is the registry `run` walks: each a function (today) -> how many notifications it created."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from sqlalchemy import String, cast, exists, func, literal, literal_column, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Employee, Notification, User
from ...timeutil import utcnow
from .. import due
from . import _insert, mail
from .kinds import kind_of

# Escalation waits this many days past the deadline.
ESCALATE_AFTER = 3


@dataclass(frozen=True)
class Reminder:
    """A notification kind told from a deadline rule: on these days before the deadline, or once when it is overdue
    by `overdue` days (told to the one who must act, or with `escalate` to their supervisor). The link is the kind's
    unless given: a path in which {object_id} and {employee_id} (the person concerned) are the row's. A `counted`
    reminder tells each recipient once, how many of their rows fall due that day (the object is the recipient's
    account; params "count" and "deadline")."""

    kind: str
    rule: str
    days_before: tuple[int, ...] = ()
    overdue: int | None = None
    escalate: bool = False
    link: str | None = None
    counted: bool = False

    def ask(self, today: date) -> due.Ask:
        if self.overdue is not None:
            return due.Ask(due.Scope.ALL, today.year, due_until=today - timedelta(days=self.overdue))
        return due.Ask(due.Scope.ALL, today.year, due_on=tuple(today + timedelta(days=n) for n in self.days_before))


# An escalation about someone else's task links to the person concerned (their profile shows their assessments
# and training to the supervisors above them).
_PERSON = "/employees/{employee_id}"
SCHEDULE: tuple[Reminder, ...] = (
    Reminder("reminder_self_assessment", "self_assessment", days_before=(7, 1)),
    Reminder("reminder_team_rating", "team_rating", days_before=(7, 1), counted=True),
    Reminder("reminder_course", "course_due", days_before=(7, 1)),
    Reminder("reminder_session", "session_soon", days_before=(1,)),
    Reminder("reminder_certification", "certification_expiring", days_before=(60, 30)),
    Reminder("reminder_probation", "probation", days_before=(14,)),
    Reminder("probation_overdue", "probation", overdue=1),
    Reminder("reminder_credits", "credits_behind", days_before=(91, 30, 7)),
    Reminder("reminder_team_credits", "team_credits_behind", days_before=(91, 30, 7)),
    Reminder("escalation_self_assessment", "self_assessment", overdue=ESCALATE_AFTER, escalate=True, link=_PERSON),
    Reminder("escalation_team_rating", "team_rating", overdue=ESCALATE_AFTER, escalate=True, link=_PERSON),
    Reminder("escalation_probation", "probation", overdue=ESCALATE_AFTER, escalate=True),
    Reminder("escalation_course", "course_due", overdue=ESCALATE_AFTER, escalate=True, link=_PERSON),
)


def _json_object(*pairs):
    """A JSON object built in SQL from (key, SQL value) pairs (json_object in SQLite, json_build_object in PostgreSQL)."""
    build = func.json_build_object if db.engine.dialect.name == "postgresql" else func.json_object
    arguments = []
    for key, value in pairs:
        arguments += [literal_column(f"'{key}'"), value]
    return build(*arguments)


def _names(zh, en):
    return _json_object(("zh", func.coalesce(zh, en)), ("en", func.coalesce(en, zh)))


def _link(template: str, rows):
    """The row's link in SQL: the template's text with the row's object and employee ids put in."""
    parts, rest = [], template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        parts += [literal(head, String), cast(rows.c[name], String)]
    out = literal(rest, String)
    for part in reversed(parts):
        out = part + out
    return out


def _source(reminder: Reminder, today: date):
    """SELECT (user_id, object_id, params, link) of the notifications the reminder tells today."""
    rows = due.BY_KIND[reminder.rule].select(reminder.ask(today)).subquery("due_rows")
    if reminder.counted:
        return (select(rows.c.user_id, rows.c.user_id.label("object_id"),
                       _json_object(("count", func.count()), ("deadline", cast(rows.c.due, String))).label("params"),
                       literal(kind_of(reminder.kind).link, String).label("link"))
                .group_by(rows.c.user_id, rows.c.due))
    params = [("title", _names(rows.c.title_zh, rows.c.title_en)), ("deadline", cast(rows.c.due, String))]
    recipient, query = rows.c.user_id, select(rows)
    if reminder.escalate:  # the one who must act → their employee record → their supervisor's account
        actor, actor_person = aliased(User), aliased(Employee)
        query = (query.join(actor, actor.id == rows.c.user_id).join(actor_person, actor_person.id == actor.employee_id))
        query, recipient = due.account_of(query, actor_person.supervisor_id, "team.lead")
        params.append(("actor", _names(actor_person.name_zh + " (" + actor_person.staff_no + ")",
                                       actor_person.name_en + " (" + actor_person.staff_no + ")")))
    if reminder.overdue is not None:  # once ever per recipient and object
        told = exists(select(Notification.id).where(
            Notification.user_id == recipient, Notification.kind == reminder.kind,
            Notification.object_type == kind_of(reminder.kind).object_type, Notification.object_id == rows.c.object_id))
        query = query.where(~told)
    link = _link(reminder.link or kind_of(reminder.kind).link, rows)
    return query.with_only_columns(recipient.label("user_id"), rows.c.object_id.label("object_id"),
                                   _json_object(*params).label("params"), link.label("link"))


def tell(reminder: Reminder, today: date) -> int:
    """Create today's notifications of the reminder: one INSERT … SELECT (the e-mails, when on, queued after it in a
    fixed number of statements). Returns how many were new."""
    spec = kind_of(reminder.kind)
    if not due.BY_KIND[reminder.rule].holds_on(today):
        return 0
    rows = _source(reminder, today).subquery("told")
    # (SQLite needs a WHERE in an INSERT … SELECT before its ON CONFLICT)
    chosen = select(rows.c.user_id, literal(spec.name), rows.c.params, rows.c.link, literal(spec.object_type),
                    rows.c.object_id, literal(today), literal(utcnow())).where(rows.c.user_id.is_not(None))
    statement = _insert().from_select(["user_id", "kind", "params", "link", "object_type", "object_id", "day", "created_at"],
                                      chosen).on_conflict_do_nothing()
    connection = db.session.connection()  # Core: with a parameters dict, the ORM would read the INSERT as a bulk insert
    if not mail.configured():  # only the count (a driver's rowcount of INSERT … SELECT is not always given)
        return len(connection.execute(statement.returning(Notification.id), due.parameters(today)).all())
    new = connection.execute(statement.returning(Notification.user_id, Notification.params, Notification.link),
                             due.parameters(today)).all()
    mail.queue(spec, [(user_id, params, link) for user_id, params, link in new])
    return len(new)


REMINDERS: dict[str, Callable[[date], int]] = {reminder.kind: partial(tell, reminder) for reminder in SCHEDULE}


def run(today: date) -> dict[str, int]:
    """Run every registered reminder rule for `today`: {rule: notifications created}."""
    return {name: rule(today) for name, rule in REMINDERS.items()}
