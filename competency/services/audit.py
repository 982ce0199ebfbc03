"""Writing to and reading the append-only audit trail: single events, bulk row events of imports, views of other
people's personal records, downloads, and the filtered log auditors read and export (docs/domain.md, "Audit trail")."""
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import Integer, case, cast, func, null, select
from sqlalchemy.orm import aliased, selectinload

from ..audit_labels import action_label, actor_label, object_label, person_label
from ..extensions import db
from ..models import AuditEvent, Employee, User
from ..timeutil import bank_day_start, bank_time, bank_today, utcnow
from . import bulk
from .streaming import stream_rows
from .unit_of_work import unit_of_work

# Row events of a large import go to the database in slices of this many (services/bulk.py: one COPY or executemany
# per slice), so that memory holds one slice's details at a time.
BULK_SLICE = 5_000
BULK_COLUMNS = ("at", "actor_id", "action", "object_type", "object_id", "details")
# Rows fetched at a time when the trail is exported: memory stays constant however long the trail is.
EXPORT_BATCH = 1_000


def _channel() -> dict:
    """What the audit adds to every event of an API request: the name of the token that made it."""
    token = g.get("api_token") if has_request_context() else None
    return {} if token is None else {"api_token": token.name}


def record(action: str, object_type: str, object_id=None, actor=None, **details) -> AuditEvent:
    """Add an audit event to the current unit of work (it commits with the change it records); an API request's
    events name its token."""
    details.update(_channel())
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        actor_id=getattr(actor, "id", actor),
        details=_plain(details),
    )
    db.session.add(event)
    return event


def record_many(action: str, actor, events: Iterable[tuple[str, object, dict]], *, json_safe: bool = False) -> int:
    """Write many events of one action, (object type, object id, details) each, in bulk in the current unit of work;
    returns how many. For imports, where one ORM object per row would not scale. `json_safe`: the details hold only
    str, int, float, bool, None, lists and dicts already (no conversion pass over them)."""
    at = bulk.converter(AuditEvent.at)(utcnow())
    actor_id, written, channel = getattr(actor, "id", actor), 0, _channel()
    rows: list[tuple] = []
    for object_type, object_id, details in events:
        if channel:
            details = {**details, **channel}
        rows.append((at, actor_id, action, object_type, None if object_id is None else str(object_id),
                     bulk.json_text(details if json_safe else _plain(details))))
        if len(rows) == BULK_SLICE:
            written += bulk.insert_rows(AuditEvent.__table__, BULK_COLUMNS, rows)
            rows = []
    return written + (bulk.insert_rows(AuditEvent.__table__, BULK_COLUMNS, rows) if rows else 0)


@unit_of_work()
def record_view(viewer, what: str, subject_id: int, **details) -> AuditEvent | None:
    """Record that the viewer opened a page of someone else's personal records (`view.<what>`, object: the
    employee). One's own pages are not recorded: they would flood the log and tell an auditor nothing. Unit of work."""
    if viewer.employee_id is not None and viewer.employee_id == subject_id:
        return None
    return record(f"view.{what}", "employee", subject_id, actor=viewer, **details)


@unit_of_work()
def record_download(kind: str, actor, object_type: str = "export", object_id=None, **details) -> AuditEvent:
    """Record a file download (`export.<kind>`) with its format, filters and, where cheap, its row count. Unit of work."""
    return record(f"export.{kind}", object_type, object_id, actor=actor, **details)


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What an auditor narrows the trail to; empty values do not filter. Dates are inclusive days of the bank's
    calendar (its time zone). `action` is one action, or a group of them when it ends in "." (e.g. "import.")."""

    action: str = ""          # an action, or an action prefix ending in "."
    actor: str = ""           # who did it: staff number, email or name
    since: date | None = None
    until: date | None = None
    object_type: str = ""
    object_id: str = ""
    subject: str = ""         # whom it is about (their employee record or account): staff number, email or name

    def as_details(self) -> dict:
        """The filters that are set, for the audit event of a download."""
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


def _named(who: str):
    """The condition that an employee is the person named by staff number or name (zh, or en in any case)."""
    return (Employee.staff_no == who) | (Employee.name_zh == who) | (func.lower(Employee.name_en) == who.lower())


def _accounts(who: str, *columns):
    """SELECT of the ids (or the columns given) of the accounts of a person named by staff number, email or name."""
    return (select(*(columns or (User.id,))).outerjoin(Employee, Employee.id == User.employee_id)
            .where(_named(who) | (func.lower(User.email) == who.lower())))


def _concerning(who: str):
    """The condition that an event is about the person named: their employee record or their account (an account
    has one person at most, so theirs is the account named or the account of the person named). One statement."""
    found = db.session.execute(_accounts(who, User.id, User.employee_id)
                               .union(select(null(), Employee.id).where(_named(who)))).all()
    accounts = sorted({str(account) for account, _person in found if account is not None})
    people = sorted({str(person) for _account, person in found if person is not None})
    return ((AuditEvent.object_type == "employee") & AuditEvent.object_id.in_(people)) | (
        (AuditEvent.object_type == "user") & AuditEvent.object_id.in_(accounts))


def _filtered(query, filters: AuditFilters):
    if filters.action.endswith("."):
        query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    elif filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.actor:
        query = query.where(AuditEvent.actor_id.in_(_accounts(filters.actor)))
    if filters.since:
        query = query.where(AuditEvent.at >= bank_day_start(filters.since))
    if filters.until:
        query = query.where(AuditEvent.at < bank_day_start(filters.until + timedelta(days=1)))
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.subject:
        query = query.where(_concerning(filters.subject))
    return query


def events_query(filters: AuditFilters | None = None):
    """SELECT of audit events, newest first, with their actors, narrowed by the filters."""
    query = (select(AuditEvent).options(selectinload(AuditEvent.actor).selectinload(User.employee))
             .order_by(AuditEvent.id.desc()))
    return _filtered(query, filters or AuditFilters())


def recent_events(limit: int = 10) -> list[AuditEvent]:
    """The latest audit events."""
    return db.session.scalars(events_query().limit(limit)).all()


def last_event_id() -> int:
    """The id of the newest event (0 when the trail is empty): an export stops there, so it is a fixed snapshot."""
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def count_events(filters: AuditFilters, up_to_id: int) -> int:
    """How many events match the filters, up to and including the given id."""
    query = _filtered(select(func.count(AuditEvent.id)), filters).where(AuditEvent.id <= up_to_id)
    return db.session.scalar(query)


@unit_of_work()
def begin_export(filters: AuditFilters, fmt: str, actor) -> int:
    """Fix the last event an export holds (so the file is a snapshot that leaves out its own download) and record
    the download (`export.audit`) with its format, filters and row count. Unit of work; returns that last id."""
    up_to = last_event_id()
    record_download("audit", actor, format=fmt, filters=filters.as_details(), rows=count_events(filters, up_to),
                    up_to=up_to)
    return up_to


# --- reading it as people do: names, labels, the bank's time ---------------------------------------


def objects_of(events) -> dict[int, str]:
    """What each event is about, by event id: the person for an account or an employee record (read in two queries
    for the page), else the object's type and id."""
    ids = {kind: {int(e.object_id) for e in events if e.object_type == kind and (e.object_id or "").isdigit()}
           for kind in ("user", "employee")}
    people = {("employee", str(e.id)): person_label(e.name_zh, e.name_en, e.staff_no, None)
              for e in db.session.scalars(select(Employee).where(Employee.id.in_(ids["employee"])))} if ids["employee"] else {}
    if ids["user"]:
        for user in db.session.scalars(select(User).options(selectinload(User.employee)).where(User.id.in_(ids["user"]))):
            people[("user", str(user.id))] = actor_label(user)
    return {e.id: people.get((e.object_type, e.object_id)) or object_label(e.object_type, e.object_id) for e in events}


def export_header() -> list[str]:
    """The columns of the log's export, in the current language."""
    zone = current_app.config["TIMEZONE"]
    return [_("Event id"), _("Time (%(zone)s)", zone=zone), _("Who"), _("Action"), _("Action code"), _("About"),
            _("Object type"), _("Object id"), _("Details")]


def _numeric_id(object_type: str):
    """The event's object id as an integer when the object is of that type and its id is a plain number (else NULL),
    so that joining on it uses the table's primary key and never fails on other ids."""
    plain = (AuditEvent.object_type == object_type) & (func.length(AuditEvent.object_id).between(1, 9)) & (
        func.length(func.trim(AuditEvent.object_id, "0123456789")) == 0)
    return case((plain, cast(AuditEvent.object_id, Integer)))


def export_rows(filters: AuditFilters, up_to_id: int) -> Iterator[list]:
    """The matching events up to the given id, newest first, one list per export_header(): the time in the bank's
    time zone, people by name, actions by label; read in batches (a server-side cursor on PostgreSQL) so that memory
    stays constant. Details are JSON text."""
    actor_user, actor_person = aliased(User), aliased(Employee)
    object_user, object_user_person, object_person = aliased(User), aliased(Employee), aliased(Employee)
    query = _filtered(
        select(AuditEvent.id, AuditEvent.at, actor_person.name_zh, actor_person.name_en, actor_person.staff_no, actor_user.email,
               AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id, AuditEvent.details,
               object_person.name_zh, object_person.name_en, object_person.staff_no,
               object_user_person.name_zh, object_user_person.name_en, object_user_person.staff_no, object_user.email)
        .outerjoin(actor_user, actor_user.id == AuditEvent.actor_id)
        .outerjoin(actor_person, actor_person.id == actor_user.employee_id)
        .outerjoin(object_person, object_person.id == _numeric_id("employee"))
        .outerjoin(object_user, object_user.id == _numeric_id("user"))
        .outerjoin(object_user_person, object_user_person.id == object_user.employee_id)
        .where(AuditEvent.id <= up_to_id).order_by(AuditEvent.id.desc()), filters)
    for row in stream_rows(query, EXPORT_BATCH):
        yield [row[0], bank_time(row[1]).replace(microsecond=0), person_label(*row[2:6]) if row[4] or row[5] else "—",
               action_label(row[6]), row[6], _about(row), row[7], row[8], json.dumps(row[9] or {}, ensure_ascii=False, sort_keys=True)]


def _about(row) -> str:
    """What an exported event is about: the employee's or the account's person, else the object's type and id."""
    if row[12]:
        return person_label(row[10], row[11], row[12], None)
    if row[15] or row[16]:
        return person_label(*row[13:17])
    return object_label(row[7], row[8])


def export_filename(filters: AuditFilters, fmt: str) -> str:
    """The download's file name: the period chosen (from its first day, to its last) and the date it was made."""
    period = "_".join(day.isoformat() for day in (filters.since, filters.until) if day)
    prefix = f"audit-{'from-' if filters.since and not filters.until else 'to-' if filters.until and not filters.since else ''}"
    return f"{prefix}{period + '-' if period else ''}{bank_today().isoformat()}.{fmt}"


_PLAIN = (str, int, bool, float)


def _plain(value):
    """Details as JSON-safe values (dates and enums become strings)."""
    if value is None or type(value) in _PLAIN:  # most values, first (an import may have millions)
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
