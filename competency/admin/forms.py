"""Forms for account administration and the audit log's filters."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..audit_labels import action_choices
from ..formutil import PersonField, options
from ..i18n import label
from ..models import SCOPES, Role
from ..services.audit import AuditFilters


class RolesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def role_choices():
    return options((r.value, label(r)) for r in Role)


class CreateUserForm(FlaskForm):
    staff_no = PersonField(_l("Employee (links the account to them)"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    password = PasswordField(_l("Initial password"), validators=[Length(max=256)],
                             description=_l("At least 10 characters, not a common password, not containing the staff number or name."))
    roles = RolesField(_l("Roles"))
    submit = SubmitField(_l("Create account"))


class RolesForm(FlaskForm):
    roles = RolesField(_l("Roles"))
    submit = SubmitField(_l("Save roles"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[Length(max=256)],
                             description=_l("At least 10 characters, not a common password, not containing the staff number or name."))
    confirm = PasswordField(_l("Repeat the new password"), validators=[EqualTo("password", message=_l("The passwords differ."))])
    submit = SubmitField(_l("Reset password"))


class ActivationForm(FlaskForm):
    submit = SubmitField(_l("Apply"))


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=80)])


class AuditFilterForm(FlaskForm):
    """GET filters of the audit log and its download (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    # any value is accepted (a link may name an action prefix the list does not offer): it only narrows the list
    action = SelectField(_l("Action"), validators=[Optional(), Length(max=64)], validate_choice=False)
    actor = StringField(_l("Who (staff number, email or name)"), validators=[Optional(), Length(max=254)])
    subject = StringField(_l("About whom (staff number, email or name)"), validators=[Optional(), Length(max=254)])
    since = DateField(_l("From date"), validators=[Optional()])
    until = DateField(_l("To date"), validators=[Optional()])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=40)])
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=64)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = action_choices()
        if self.action.data and not any(self.action.data == value for group in self.action.choices.values() for value, _label in group):
            self.action.choices[""].append((self.action.data, self.action.data))  # a link's own prefix, shown as chosen

    def validate_until(self, field) -> None:
        """The period cannot end before it starts."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))

    def filters(self) -> AuditFilters | None:
        """The filters, or None when the form is invalid (the page shows the field errors, never an unfiltered list)."""
        if not self.validate():
            return None
        return AuditFilters(action=(self.action.data or "").strip(), actor=(self.actor.data or "").strip(),
                            since=self.since.data, until=self.until.data,
                            object_type=(self.object_type.data or "").strip(), object_id=(self.object_id.data or "").strip(),
                            subject=(self.subject.data or "").strip())


# What each scope lets a token do (within its account's roles and relationships), as the form offers them.
SCOPE_LABELS = {
    "org:read": _l("org:read — read org units and employees"),
    "org:write": _l("org:write — create and update org units and employees"),
    "sales:write": _l("sales:write — send annual sales"),
    "training:write": _l("training:write — send training completions, read the course catalogue"),
    "results:read": _l("results:read — read assessment results and credit ledgers"),
    "reviews:read": _l("reviews:read — read grade review recommendations"),
    "models:read": _l("models:read — read competency models and the course catalogue"),
}


class CreateTokenForm(FlaskForm):
    account = StringField(_l("Account (staff number, or a service account's email)"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("Who uses the token and for what, e.g. HR nightly sync."))
    scopes = RolesField(_l("Scopes"), choices=options((s, SCOPE_LABELS[s]) for s in SCOPES))
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()],
                           description=_l("The last day the token works. Leave empty for no expiry."))
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))
