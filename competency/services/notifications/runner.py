"""`flask notify run`: the reminders that are due, then the outbox, then the notifications past their keeping time.
Safe to run from several servers at once and as often as one likes (every 10 minutes from cron, or the in-process
timer under `make run`): reminders are told at most once a day, messages are claimed before they are sent."""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_

from ...extensions import db
from ...models import Notification, OutboxMessage, PasswordReset
from ...models.notification import SENT
from ...timeutil import bank_today, utcnow
from ..unit_of_work import unit_of_work
from . import mail, reminders


@dataclass
class RunReport:
    reminders: dict[str, int] = field(default_factory=dict)
    sent: mail.Sent = field(default_factory=mail.Sent)
    mail_on: bool = False
    pruned_notifications: int = 0
    pruned_messages: int = 0


@unit_of_work()
def prune(now: datetime) -> tuple[int, int]:
    """Delete notifications older than NOTIFICATION_KEEP_DAYS, sent e-mails older than MAIL_KEEP_DAYS and password
    reset links that ended a day ago. Unit of work; (notifications, e-mails) deleted."""
    config = current_app.config
    notifications = db.session.execute(delete(Notification).where(
        Notification.created_at < now - timedelta(days=config["NOTIFICATION_KEEP_DAYS"]))).rowcount
    messages = db.session.execute(delete(OutboxMessage).where(
        OutboxMessage.status == SENT, OutboxMessage.sent_at < now - timedelta(days=config["MAIL_KEEP_DAYS"]))).rowcount
    db.session.execute(delete(PasswordReset).where(or_(PasswordReset.expires_at < now - timedelta(days=1),
                                                       PasswordReset.used_at < now - timedelta(days=1))))
    return notifications, messages


def run(today: date | None = None, now: datetime | None = None) -> RunReport:
    """The reminders (one unit of work: all or none), then the outbox, then pruning."""
    today, now = today or bank_today(), now or utcnow()
    report = RunReport(mail_on=mail.configured())
    with unit_of_work():
        report.reminders = reminders.run(today)
    report.sent = mail.drain(max(now, utcnow()))  # the reminders' e-mails, queued just now, go out in this run too
    report.pruned_notifications, report.pruned_messages = prune(now)
    return report
