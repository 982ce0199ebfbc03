"""E-mail through the outbox: queued with the notification (in the recipient's language, inside the caller's
transaction), sent by `flask notify run` — never inside a request, so a slow or absent mail server never slows or
breaks a page.

Without MAIL_SERVER nothing is queued (the inbox still tells everyone). Sending claims due rows with one
conditional UPDATE (PostgreSQL skips rows another server is claiming), commits the claim, then sends each and marks
it sent in its own transaction: several servers may run it at once and none sends a message another sent. A failed
message waits RETRY_MINUTES · 2^(attempts − 1) and is tried again; after MAIL_MAX_ATTEMPTS failures it is left
`failed`, listed for administrators (Accounts → Failed e-mails) with its error and a Retry button. A claim whose
sender died (no result after CLAIM_MINUTES) is taken again by the next run."""
import json
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin

from flask import current_app, render_template
from flask_babel import force_locale
from flask_mailman import EmailMultiAlternatives
from markupsafe import escape
from sqlalchemy import and_, func, insert, or_, select, update

from ...extensions import db, mail
from ...models import NotificationPreference, OutboxMessage, User
from ...models.notification import FAILED, QUEUED, SENT
from ...timeutil import utcnow
from ..unit_of_work import unit_of_work
from .kinds import Kind
from .text import render_text

RETRY_MINUTES = 2
CLAIM_MINUTES = 10
BATCH = 200
# Up to this many recipients are looked up by id; more (a reminder run) read every account with an address once.
LOOKUP_BY_ID = 500
# Where the link goes while a message is rendered once for many recipients; each gets their own link after.
_LINK = "\x00link\x00"


def configured() -> bool:
    """Whether e-mail is on (MAIL_SERVER is set)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def absolute(path: str) -> str:
    """The link as a full URL under APP_BASE_URL (e-mails are read outside the app)."""
    return urljoin(current_app.config["APP_BASE_URL"].rstrip("/") + "/", path.lstrip("/"))


def _recipients(spec: Kind, user_ids: set[int]) -> dict[int, tuple[str, str]]:
    """{account id: (address, language)} of the accounts that get this kind by e-mail: active, with an address,
    and (for an optional kind) not turned off."""
    query = select(User.id, User.email, User.locale).where(User.active.is_(True), User.email.is_not(None), User.email != "")
    if not spec.mandatory:
        off = select(NotificationPreference.user_id).where(NotificationPreference.kind == spec.name,
                                                           NotificationPreference.email.is_(False))
        query = query.where(User.id.not_in(off))
    if len(user_ids) <= LOOKUP_BY_ID:
        query = query.where(User.id.in_(sorted(user_ids)))
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return {i: (email, locale or default) for i, email, locale in db.session.execute(query) if i in user_ids}


def render(spec: Kind, params: dict, locale: str, link: str) -> tuple[str, str, str]:
    """(subject, text, HTML) of the e-mail telling this kind with these params, in that language."""
    with force_locale(locale):
        text = render_text(spec, params)
        values = {"kind": spec, "text": text, "link": link, "settings": absolute("/account/notifications"),
                  "lang": locale}
        subject = f"{current_app.config['MAIL_SUBJECT_PREFIX']}{spec.label}"
        return (subject, render_template("mail/notification.txt", **values),
                render_template("mail/notification.html", **values))


def queue(spec: Kind, new: list[tuple[int, dict, str]]) -> int:
    """Queue the e-mails of new notifications [(account id, params, link)]: one SELECT of the recipients, each
    distinct (params, language) rendered once, one INSERT. Nothing when e-mail is off. Returns how many."""
    if not new or not configured():
        return 0
    recipients = _recipients(spec, {user_id for user_id, _params, _link in new})
    rendered: dict[tuple[str, str], tuple[str, str, str]] = {}
    now, rows = utcnow(), []
    for user_id, params, link in new:
        if user_id not in recipients:
            continue
        address, locale = recipients[user_id]
        key = (locale, json.dumps(params, sort_keys=True, default=str))
        if key not in rendered:
            rendered[key] = render(spec, params, locale, _LINK)
        subject, text, html = rendered[key]
        url = absolute(link)
        rows.append({"user_id": user_id, "kind": spec.name, "to_address": address, "locale": locale, "subject": subject,
                     "text_body": text.replace(_LINK, url), "html_body": html.replace(_LINK, str(escape(url))),
                     "status": QUEUED, "attempts": 0, "next_attempt_at": now, "created_at": now})
    if rows:
        db.session.execute(insert(OutboxMessage), rows)
    return len(rows)


def queue_message(user: User, kind: str, subject: str, text: str, html: str) -> None:
    """Queue one e-mail written by the caller (a password reset link) to the account's address."""
    now = utcnow()
    db.session.add(OutboxMessage(user_id=user.id, kind=kind, to_address=user.email, subject=subject, text_body=text,
                                 html_body=html, locale=user.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
                                 status=QUEUED, attempts=0, next_attempt_at=now, created_at=now))


# --- sending ---------------------------------------------------------------------------------------------------

@dataclass
class Sent:
    """What one drain did: sent, to be tried again, given up (failed), and still waiting (not due yet)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    waiting: int = 0


def _worker_name() -> str:
    return f"{socket.gethostname()[:16]}:{os.getpid()}:{secrets.token_hex(4)}"


def _claim(worker: str, now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this worker (one conditional UPDATE, committed), and read them."""
    free = or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - timedelta(minutes=CLAIM_MINUTES))
    due = and_(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now, free)
    chosen = (select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
              .with_for_update(skip_locked=True))
    with unit_of_work():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(chosen.scalar_subquery()), due)
                           .values(claimed_by=worker, claimed_at=now).execution_options(synchronize_session=False))
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.claimed_by == worker,
                                                          OutboxMessage.status == QUEUED).order_by(OutboxMessage.id)).all()


def _connection():
    """An SMTP connection from the app's MAIL_* settings (read when sending, so a changed setting holds at once)."""
    config = current_app.config
    return mail.get_connection(backend="smtp", host=config["MAIL_SERVER"], port=config["MAIL_PORT"],
                               username=config.get("MAIL_USERNAME"), password=config.get("MAIL_PASSWORD"),
                               use_tls=config.get("MAIL_USE_TLS", False), use_ssl=config.get("MAIL_USE_SSL", False),
                               timeout=config.get("MAIL_TIMEOUT"), fail_silently=False)


def _finish(message_id: int, worker: str, **values) -> None:
    """Write a message's outcome if this worker still holds its claim, in a transaction of its own."""
    with unit_of_work():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
                           .values(claimed_by=None, claimed_at=None, **values).execution_options(synchronize_session=False))


def _failure(message: OutboxMessage, error: Exception, now: datetime, result: Sent) -> dict:
    attempts = message.attempts + 1
    values = {"attempts": attempts, "last_error": f"{type(error).__name__}: {error}"[:2000]}
    if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        result.failed += 1
        return {**values, "status": FAILED}
    result.retrying += 1
    return {**values, "next_attempt_at": now + timedelta(minutes=RETRY_MINUTES * 2 ** (attempts - 1))}


def _send_batch(messages: list[OutboxMessage], worker: str, now: datetime, result: Sent) -> None:
    ids = [(m.id, m) for m in messages]
    db.session.commit()  # end the read before the network waits
    connection = _connection()
    try:
        connection.open()
    except Exception as error:  # refused, unknown host, TLS or login failure: every message waits for the next try
        for message_id, message in ids:
            _finish(message_id, worker, **_failure(message, error, now, result))
        return
    try:
        for message_id, message in ids:
            email = EmailMultiAlternatives(message.subject, message.text_body, current_app.config["MAIL_DEFAULT_SENDER"],
                                           [message.to_address], connection=connection)
            email.attach_alternative(message.html_body, "text/html")
            try:
                email.send()
            except Exception as error:
                _finish(message_id, worker, **_failure(message, error, now, result))
            else:
                _finish(message_id, worker, status=SENT, sent_at=utcnow(), attempts=message.attempts + 1, last_error=None)
                result.sent += 1
    finally:
        try:
            connection.close()
        except Exception:  # a server that dropped the connection: the messages are already marked
            pass


def drain(now: datetime | None = None, worker: str | None = None, limit: int = BATCH) -> Sent:
    """Send every due message of the outbox, batch by batch; returns what happened."""
    now, worker, result = now or utcnow(), worker or _worker_name(), Sent()
    if configured():
        while messages := _claim(worker, now, limit):
            _send_batch(messages, worker, now, result)
    result.waiting = db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == QUEUED)) or 0
    db.session.commit()
    return result


# --- what administrators see --------------------------------------------------------------------------------

def failed_page(before: int | None = None, size: int = 50) -> list[OutboxMessage]:
    """Failed e-mails, newest first, a page at a time (keyset: ids below `before`)."""
    query = select(OutboxMessage).where(OutboxMessage.status == FAILED)
    if before is not None:
        query = query.where(OutboxMessage.id < before)
    return db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(size)).all()


def failed_count() -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == FAILED)) or 0


@unit_of_work()
def retry(message_ids: list[int], actor=None) -> int:
    """Queue failed e-mails again (due now, their attempts counted afresh). Unit of work; how many."""
    from .. import audit

    changed = db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids), OutboxMessage.status == FAILED)
                                 .values(status=QUEUED, attempts=0, next_attempt_at=utcnow(), claimed_by=None,
                                         claimed_at=None).execution_options(synchronize_session=False)).rowcount
    if changed:
        audit.record("mail.retry", "outbox", message_ids[0] if len(message_ids) == 1 else None, actor=actor,
                     messages=changed)
    return changed
