"""Writing to and reading the append-only audit trail."""
from sqlalchemy import select

from ..extensions import db
from ..models import AuditEvent


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


def events_query(action: str = ""):
    """SELECT of audit events, newest first, optionally of one action prefix."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    return query


def recent_events(limit: int = 10) -> list[AuditEvent]:
    """The latest audit events."""
    return db.session.scalars(events_query().limit(limit)).all()


def _plain(value):
    """Details as JSON-safe values (dates and enums become strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
