"""Account administration and the audit log (admin only)."""

from flask import Response, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import DomainError, FieldError
from ..extensions import db
from ..models import User
from ..security import permission_required
from ..services import access, accounts, api_tokens, audit, exports, two_factor
from ..timeutil import bank_today
from . import bp
from .forms import (
    ActivationForm,
    AuditFilterForm,
    CreateTokenForm,
    CreateUserForm,
    ResetPasswordForm,
    RevokeTokenForm,
    RolesForm,
    UserSearchForm,
    role_choices,
)


@bp.route("/users")
@permission_required("accounts.manage")
def users():
    """All accounts, searchable and paginated."""
    form = UserSearchForm(request.args)
    query = accounts.user_query(form.q.data if form.validate() else "")
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("admin/users.html", form=form, page=page)


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("accounts.manage")
def new_user():
    """Create an account linked to an employee or identified by email."""
    form = CreateUserForm()
    form.roles.choices = role_choices()
    if form.validate_on_submit():
        person = form.staff_no.person
        try:
            user = accounts.create_account(
                staff_no=person.staff_no if person else None, email=form.email.data, password=form.password.data,
                roles=form.roles.data, actor=current_user,
            )
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(_("Account created."), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/new_user.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("accounts.manage")
def user(user_id: int):
    """One account: its roles, a password reset, a two-factor reset, and (de)activation."""
    account = db.get_or_404(User, user_id)
    roles_form = RolesForm(prefix="roles", data={"roles": [r.value for r in account.roles]})
    roles_form.roles.choices = role_choices()
    password_form = ResetPasswordForm(prefix="pw")
    activation_form = ActivationForm(prefix="act")
    two_factor_form = ActivationForm(prefix="mfa")
    actions = (
        (roles_form, lambda: accounts.set_roles(account, roles_form.roles.data, actor=current_user),
         _("Roles saved. The person's open sessions have ended.")),
        (password_form, lambda: accounts.reset_password(account, password_form.password.data, actor=current_user),
         _("Password reset: the person must choose their own at the next sign-in.")),
        (activation_form, lambda: accounts.toggle_active(account, actor=current_user), None),
        (two_factor_form, lambda: two_factor.reset(account, actor=current_user),
         _("Two-factor sign-in reset: the person enrols an authenticator again at the next sign-in.")),
    )
    for form, act, done in actions:
        if form.submit.data and form.validate_on_submit():
            try:
                act()
            except DomainError as error:
                flash(str(error), "error")
                break
            if done:
                flash(done, "success")
            return redirect(url_for("admin.user", user_id=account.id))
    return render_template("admin/user.html", account=account, roles_form=roles_form, password_form=password_form,
                           activation_form=activation_form, two_factor_form=two_factor_form,
                           needs_two_factor=access.needs_two_factor(account, current_app.config["TWO_FACTOR_ALL"]))


@bp.route("/audit")
@permission_required("audit.read")
def audit_log():
    """The audit trail, newest first, in the bank's time zone with people by name and actions by label, paginated and
    filtered; the filtered events download as CSV or .xlsx."""
    form = AuditFilterForm(request.args)
    filters = form.filters()
    page = None if filters is None else db.paginate(audit.events_query(filters), error_out=False,
                                                    per_page=current_app.config["PAGE_SIZE"] * 2)
    return render_template("admin/audit.html", form=form, page=page, filters=filters,
                           event_objects=audit.objects_of(page.items) if page else {})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/audit/export.<any(csv,xlsx):fmt>")
@permission_required("audit.read")
def audit_export(fmt: str):
    """Download the filtered audit trail as CSV or .xlsx in the user's language and the bank's time zone, streamed
    in constant memory; the download is audited."""
    filters = AuditFilterForm(request.args).filters()
    if filters is None:
        raise DomainError(_("Correct the filters before downloading."))
    up_to = audit.begin_export(filters, fmt, actor=current_user)
    rows = audit.export_rows(filters, up_to)
    if fmt == "csv":
        body, content_type = exports.stream_csv(audit.export_header(), rows), "text/csv; charset=utf-8"
    else:
        body, content_type = exports.stream_xlsx(audit.export_header(), rows, "audit"), XLSX
    return Response(stream_with_context(body), content_type=content_type,
                    headers={"Content-Disposition": f"attachment; filename={audit.export_filename(filters, fmt)}"})


@bp.route("/api-tokens", methods=["GET", "POST"])
@permission_required("accounts.manage")
def api_tokens_page():
    """API tokens: create one (its secret is shown once, on this response only), list them with their last use."""
    form, secret = CreateTokenForm(), None
    if form.validate_on_submit():
        account = api_tokens.account_by_login(form.account.data)
        try:
            if account is None:
                raise FieldError("account", _("No account with this staff number or email."))
            token, secret = api_tokens.create_token(account, form.name.data, form.scopes.data, form.expires_on.data, actor=current_user)
        except FieldError as error:
            getattr(form, error.field if error.field in form else "name").errors.append(str(error))
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(_("Token %(name)s created. Copy it now: it is not shown again.", name=token.name), "success")
            form = CreateTokenForm(formdata=None)
    page = db.paginate(api_tokens.tokens_query(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("admin/api_tokens.html", form=form, page=page, secret=secret, revoke_form=RevokeTokenForm(),
                           today=bank_today())


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["POST"])
@permission_required("accounts.manage")
def revoke_api_token(token_id: int):
    """Revoke a token: its next request is refused."""
    if RevokeTokenForm().validate_on_submit():
        token = api_tokens.token_or_404(token_id)
        revoked = api_tokens.revoke(token, actor=current_user)
        flash(_("Token %(name)s revoked.", name=token.name) if revoked else _("This token was already revoked."), "success")
    return redirect(url_for("admin.api_tokens_page"))
