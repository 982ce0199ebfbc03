"""Forms for account administration."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..formutil import options
from ..i18n import label
from ..models import Role


class RolesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def role_choices():
    return options((r.value, label(r)) for r in Role)


class CreateUserForm(FlaskForm):
    staff_no = StringField(_l("Staff number (links the account to an employee)"), validators=[Optional(), Length(max=32)])
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
