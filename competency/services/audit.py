"""Writing to and reading the append-only audit trail: single events, bulk row events of imports, views of other
people's personal records, downloads, and the filtered log auditors read and export (docs/domain.md, "Audit trail")."""
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import AuditEvent, Employee, User
from ..timeutil import utcnow
from . import bulk
from .streaming import stream_rows
from .unit_of_work import unit_of_work

# Row events of a large import go to the database in slices of this many (services/bulk.py: one COPY or executemany
# per slice), so that memory holds one slice's details at a time.
BULK_SLICE = 5_000
BULK_COLUMNS = ("at", "actor_id", "action", "object_type", "object_id", "details")
# Rows fetched at a time when the trail is exported: memory stays constant however long the trail is.
EXPORT_BATCH = 1_000


def record(action: str, object_type: str, object_id=None, actor=None, **details) -> AuditEvent:
    """Add an audit event to the current unit of work (it commits with the change it records)."""
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
    actor_id, written = getattr(actor, "id", actor), 0
    rows: list[tuple] = []
    for object_type, object_id, details in events:
        rows.append((at, actor_id, action, object_type, None if object_id is None else str(object_id),
                     bulk.json_text(details if json_safe else _plain(details))))
        if len(rows) == BULK_SLICE:
            written += bulk.insert_rows(AuditEvent.__table__, BULK_COLUMNS, rows)
            rows = []
    return written + bulk.insert_rows(AuditEvent.__table__, BULK_COLUMNS, rows)


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
    """What an auditor narrows the trail to; empty values do not filter. Dates are inclusive and in UTC."""

    action: str = ""          # action prefix, e.g. "import." or "view."
    actor: str = ""           # the actor's login name: staff number or email
    since: date | None = None
    until: date | None = None
    object_type: str = ""
    object_id: str = ""

    def as_details(self) -> dict:
        """The filters that are set, for the audit event of a download."""
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


def _filtered(query, filters: AuditFilters):
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    if filters.actor:
        actors = (select(User.id).outerjoin(Employee, Employee.id == User.employee_id)
                  .where((Employee.staff_no == filters.actor) | (func.lower(User.email) == filters.actor.lower())))
        query = query.where(AuditEvent.actor_id.in_(actors))
    if filters.since:
        query = query.where(AuditEvent.at >= datetime.combine(filters.since, time()))
    if filters.until:
        query = query.where(AuditEvent.at < datetime.combine(filters.until + timedelta(days=1), time()))
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
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


EXPORT_HEADER = ["id", "at_utc", "actor", "actor_id", "action", "object_type", "object_id", "details"]


def export_rows(filters: AuditFilters, up_to_id: int) -> Iterator[list]:
    """The matching events up to the given id, newest first, one list per EXPORT_HEADER, read in batches (a
    server-side cursor on PostgreSQL) so that memory stays constant. Details are JSON text."""
    login = func.coalesce(Employee.staff_no, User.email)
    query = _filtered(select(AuditEvent.id, AuditEvent.at, login, AuditEvent.actor_id, AuditEvent.action,
                             AuditEvent.object_type, AuditEvent.object_id, AuditEvent.details)
                      .outerjoin(User, User.id == AuditEvent.actor_id).outerjoin(Employee, Employee.id == User.employee_id)
                      .where(AuditEvent.id <= up_to_id).order_by(AuditEvent.id.desc()), filters)
    for row in stream_rows(query, EXPORT_BATCH):
        yield [row[0], row[1].strftime("%Y-%m-%d %H:%M:%S"), row[2], row[3], row[4], row[5], row[6],
               json.dumps(row[7] or {}, ensure_ascii=False, sort_keys=True)]


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
