"""One's own notifications: the bell's count, the inbox a page at a time, reading, and the e-mail choices."""
from dataclasses import dataclass

from flask import g, has_app_context
from sqlalchemy import bindparam, event, func, select, update
from sqlalchemy.orm import Session

from ...extensions import db
from ...models import Notification, NotificationPreference
from ...timeutil import utcnow
from ..unit_of_work import unit_of_work
from .kinds import optional_kinds

# The bell counts up to this many (then shows "99+"): the count stops reading the index there.
BELL_CAP = 100


def unread_count_of(user_id):
    """The count of the account's unread notifications, up to BELL_CAP, as a scalar subquery (`user_id`: a value or
    a bind parameter); it reads the partial index of unread ones and stops at the cap."""
    unread = (select(Notification.id).where(Notification.user_id == user_id, Notification.read_at.is_(None))
              .limit(BELL_CAP).subquery())
    return select(func.count()).select_from(unread).scalar_subquery()


_UNREAD = select(unread_count_of(bindparam("user_id")))  # built once: building costs more than running it


def unread_count(user_id: int) -> int:
    """The account's unread notifications, up to BELL_CAP: as counted with the signed-in account in this request
    (`keep_unread_count`) when nothing was committed since, otherwise one query on the partial index of unread ones."""
    kept = g.get(_KEPT) if has_app_context() else None
    if kept and kept[0] == user_id:
        return kept[1]
    return db.session.scalar(_UNREAD, {"user_id": user_id}) or 0


def keep_unread_count(user_id: int, count: int) -> None:
    """Keep the count read with the account (security.load_user) for the rest of the request."""
    setattr(g, _KEPT, (user_id, count))


_KEPT = "unread_notifications"


@event.listens_for(Session, "after_commit")
def _count_again(_session) -> None:
    """A commit may have added or read notifications of the account: the bell counts them again."""
    if has_app_context():
        g.pop(_KEPT, None)


@dataclass
class InboxPage:
    items: list
    older: int | None  # the ?before= of the next (older) page, None on the last
    newest: bool  # whether this is the first page


def page(user_id: int, before: int | None = None, unread_only: bool = False, size: int = 25) -> InboxPage:
    """The account's notifications newest first, `size` at a time, older than the id `before` (keyset)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        query = query.where(Notification.id < before)
    rows = db.session.scalars(query.order_by(Notification.id.desc()).limit(size + 1)).all()
    older = rows[size - 1].id if len(rows) > size else None
    return InboxPage(rows[:size], older, before is None)


@unit_of_work()
def mark_read(notification: Notification) -> None:
    """Mark one notification read (again: nothing changes). Unit of work."""
    if notification.read_at is None:
        notification.read_at = utcnow()


@unit_of_work()
def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the account read. Unit of work; how many."""
    return db.session.execute(update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
                              .values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def email_choices(user_id: int) -> dict[str, bool]:
    """{optional kind: e-mail on} for the account (on unless turned off)."""
    off = set(db.session.scalars(select(NotificationPreference.kind).where(
        NotificationPreference.user_id == user_id, NotificationPreference.email.is_(False))))
    return {kind.name: kind.name not in off for kind in optional_kinds()}


@unit_of_work()
def set_email_choices(user_id: int, wanted: dict[str, bool]) -> None:
    """Keep the account's e-mail choice for each optional kind (mandatory kinds are not the person's to turn off).
    Unit of work."""
    known = {kind.name for kind in optional_kinds()}
    rows = {p.kind: p for p in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user_id))}
    for kind, on in wanted.items():
        if kind not in known:
            continue
        if kind in rows:
            rows[kind].email = bool(on)
        else:
            db.session.add(NotificationPreference(user_id=user_id, kind=kind, email=bool(on)))
