"""The inbox, reading a notification (which goes on to what it is about), marking all read, the e-mail choices,
and the failed e-mails (administrators)."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..security import permission_required
from ..services import access
from ..services.notifications import inbox, mail
from ..services.notifications.kinds import KINDS, optional_kinds
from ..services.notifications.text import label_of, text_of
from . import bp
from .forms import ActionForm, email_choices_form


def _key(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 12 else None


@bp.app_template_global()
def unread_notifications() -> int:
    """The bell's count for the signed-in account (read with the account, see inbox.unread_count)."""
    return inbox.unread_count(current_user.id) if current_user.is_authenticated else 0


@bp.app_template_filter("notification_text")
def notification_text(notification) -> str:
    return text_of(notification)


@bp.app_template_filter("notification_label")
def notification_label(notification) -> str:
    return label_of(notification)


@bp.route("/notifications")
@login_required
def index():
    """My notifications, newest first, a page at a time (all, or only the unread)."""
    unread_only = request.args.get("show") == "unread"
    page = inbox.page(current_user.id, before=_key("before"), unread_only=unread_only,
                      size=current_app.config["PAGE_SIZE"])
    return render_template("notifications/index.html", page=page, unread_only=unread_only, form=ActionForm())


def _safe_link(link: str) -> str:
    """Only paths of this app are followed (a notification's link is never another site)."""
    if link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return url_for("notifications.index")


@bp.route("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Mark the notification read and go to what it is about."""
    item = access.own_notification_or_404(current_user, notification_id)
    inbox.mark_read(item)
    return redirect(_safe_link(item.link))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    """Mark every notification read."""
    if ActionForm().validate_on_submit():
        count = inbox.mark_all_read(current_user.id)
        flash(ngettext("%(num)s notification marked read.", "%(num)s notifications marked read.", count), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def settings():
    """Which optional notifications also come by e-mail (deadlines and decisions always do)."""
    form = email_choices_form(inbox.email_choices(current_user.id))
    if form.validate_on_submit():
        inbox.set_email_choices(current_user.id, {k.name: form[f"kind_{k.name}"].data for k in optional_kinds()})
        flash(_("Your e-mail settings are saved."), "success")
        return redirect(url_for("notifications.settings"))
    mandatory = [k for k in KINDS.values() if k.mandatory]
    return render_template("notifications/settings.html", form=form, optional=optional_kinds(), mandatory=mandatory,
                           mail_on=mail.configured())


@bp.route("/admin/mail")
@permission_required("accounts.manage")
def failed_mail():
    """E-mails that could not be sent after every attempt, newest first, with their error."""
    messages = mail.failed_page(before=_key("before"), size=current_app.config["PAGE_SIZE"])
    return render_template("notifications/failed_mail.html", messages=messages, total=mail.failed_count(),
                           form=ActionForm(), mail_on=mail.configured(), size=current_app.config["PAGE_SIZE"])


@bp.route("/admin/mail/<int:message_id>/retry", methods=["POST"])
@permission_required("accounts.manage")
def retry_mail(message_id: int):
    """Queue one failed e-mail again; the next `notify run` sends it."""
    return _retry([message_id])


@bp.route("/admin/mail/retry", methods=["POST"])
@permission_required("accounts.manage")
def retry_all_mail():
    """Queue every failed e-mail again."""
    return _retry([m.id for m in mail.failed_page(size=10_000)])


def _retry(message_ids: list[int]):
    if ActionForm().validate_on_submit():
        count = mail.retry(message_ids, actor=current_user)
        flash(ngettext("%(num)s e-mail queued again.", "%(num)s e-mails queued again.", count), "success")
    return redirect(url_for("notifications.failed_mail"))
