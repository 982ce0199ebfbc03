"""Telling people: the in-app notifications (the bell and the inbox) and the e-mails queued with them.

The API other services call, inside their own unit of work (so an action rolled back tells nobody):
- `notify(recipients, kind, obj=…, params=…)` — one event to a few accounts;
- `notify_employees(employee_ids, kind, …)` — the same, addressed to people (their accounts);
- `notify_many(kind, rows)` — many events of one kind, each row with its own recipient, object and params;
- `notify_select(kind, source, params=…)` — one INSERT … SELECT from a select of (user_id, object_id): opening a
  cycle for 100,000 people, or a reminder run, costs a fixed number of statements.
Each kind is told at most once per recipient, object and day (`uq_notification_once_a_day`, inserted with ON
CONFLICT DO NOTHING): a reminder run repeated the same day adds nothing, and queues no second e-mail.

E-mail is queued only when MAIL_SERVER is set, only to accounts with an address, and not for an optional kind the
person turned off; `flask notify run` sends it (mail.py). Nothing is sent inside a request."""
from collections.abc import Iterable
from datetime import date

from sqlalchemy import String, cast, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...extensions import db
from ...models import Notification, User
from ...timeutil import bank_today, utcnow
from . import mail
from .kinds import KINDS, Kind, kind_of, register  # noqa: F401 (the registry is part of the API)

__all__ = ["KINDS", "Kind", "kind_of", "notify", "notify_employees", "notify_many", "notify_select", "register",
           "user_ids_of_employees"]

# Rows per INSERT statement of notify_many (SQLite binds at most 32,766 values per statement).
BATCH = 1000


def _insert():
    """INSERT … ON CONFLICT DO NOTHING of the database in use."""
    dialect = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    return dialect(Notification)


def _today(on: date | None) -> date:
    return on or bank_today()


def _object(kind: Kind, obj) -> tuple[str, int]:
    if obj is None:
        return "", 0
    return getattr(obj, "__tablename__", kind.object_type), int(obj.id)


def link_of(kind: Kind, object_id: int, params: dict) -> str:
    """The kind's link for that object and params (a path of the app)."""
    return kind.link.format(object_id=object_id, **{k: v for k, v in params.items() if k != "object_id"})


def notify(recipients: Iterable, kind: str, *, obj=None, params: dict | None = None, link: str | None = None,
           on: date | None = None) -> int:
    """Tell these accounts (User objects or ids) about one event of the kind, about `obj`; the link is the kind's
    unless given. Runs in the caller's unit of work; returns how many notifications were new."""
    spec = kind_of(kind)
    params = params or {}
    object_type, object_id = _object(spec, obj)
    target = link if link is not None else link_of(spec, object_id, params)
    ids = sorted({getattr(r, "id", r) for r in recipients if r is not None})
    return notify_many(kind, [{"user_id": i, "object_id": object_id, "object_type": object_type, "params": params,
                               "link": target} for i in ids], on=on)


def user_ids_of_employees(employee_ids: Iterable[int]) -> list[int]:
    """The active accounts of these people (one query)."""
    wanted = sorted({i for i in employee_ids if i is not None})
    if not wanted:
        return []
    return list(db.session.scalars(select(User.id).where(User.employee_id.in_(wanted), User.active.is_(True))))


def notify_employees(employee_ids: Iterable[int], kind: str, **kwargs) -> int:
    """`notify` addressed to people: their active accounts (people without one are not told)."""
    return notify(user_ids_of_employees(employee_ids), kind, **kwargs)


def notify_many(kind: str, rows: Iterable[dict], *, on: date | None = None) -> int:
    """Many notifications of one kind: each row {user_id, object_id, params, link (optional: the kind's),
    object_type (optional: the kind's)}. One INSERT per BATCH rows, then the e-mails in a fixed number of
    statements. Returns how many were new (already told today: skipped)."""
    spec = kind_of(kind)
    day, now = _today(on), utcnow()
    values = []
    for row in rows:
        params = row.get("params") or {}
        object_id = int(row.get("object_id") or 0)
        values.append({"user_id": row["user_id"], "kind": kind, "params": params, "object_id": object_id,
                       "object_type": row.get("object_type", spec.object_type if object_id else ""),
                       "link": row.get("link") or link_of(spec, object_id, params), "day": day, "created_at": now})
    if not values:
        return 0
    new = []
    statement = _insert().on_conflict_do_nothing().returning(Notification.user_id, Notification.params, Notification.link)
    for start in range(0, len(values), BATCH):
        new.extend(db.session.execute(statement, values[start:start + BATCH]).all())
    mail.queue(spec, [(user_id, params, link) for user_id, params, link in new])
    return len(new)


def notify_select(kind: str, source, *, params: dict | None = None, on: date | None = None) -> int:
    """Many notifications of one kind from one select of (user_id, object_id) columns, all with the same params:
    one INSERT … SELECT (the link is built in SQL from the kind's, whose only per-row part is the object's id),
    then the e-mails in a fixed number of statements. Returns how many were new."""
    spec = kind_of(kind)
    params = params or {}
    rows = source.subquery()
    if "{object_id}" in spec.link:  # cut the link where the object's id goes, and join the pieces in SQL
        prefix, suffix = spec.link.format(object_id="\x00", **params).split("\x00")
        link = literal(prefix) + cast(rows.c.object_id, String) + literal(suffix)
    else:
        link = literal(link_of(spec, 0, params))
    day, now = _today(on), utcnow()
    chosen = select(rows.c.user_id, literal(kind), _json(params), link, literal(spec.object_type), rows.c.object_id,
                    literal(day), literal(now)).where(rows.c.user_id.is_not(None))
    statement = (_insert().from_select(["user_id", "kind", "params", "link", "object_type", "object_id", "day",
                                        "created_at"], chosen).on_conflict_do_nothing())
    if not mail.configured():  # nothing to queue: no rows to read back
        return db.session.execute(statement).rowcount
    new = db.session.execute(statement.returning(Notification.user_id, Notification.link)).all()
    mail.queue(spec, [(user_id, params, target) for user_id, target in new])
    return len(new)


def _json(params: dict):
    """The params as a JSON value in SQL (the same for every row)."""
    value = literal(params, Notification.params.type)
    return cast(value, Notification.params.type) if db.engine.dialect.name == "postgresql" else value
