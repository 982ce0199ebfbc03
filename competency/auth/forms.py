"""Forms for signing in (password, second factor), the own password, logging out and the language switcher."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    identifier = StringField(_l("Staff number or email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Log in"))


class CodeForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app (or a recovery code)"), validators=[DataRequired(), Length(max=32)])
    submit = SubmitField(_l("Confirm"))


class SetupCodeForm(FlaskForm):
    code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(), Length(max=32)])
    submit = SubmitField(_l("Turn on two-factor sign-in"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[EqualTo("password", message=_l("The passwords differ."))])
    submit = SubmitField(_l("Change password"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Log out"))


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[AnyOf(["zh", "en"])])
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    identifier = StringField(_l("Staff number or email"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send me a reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[EqualTo("password", message=_l("The passwords differ."))])
    submit = SubmitField(_l("Set the new password"))
