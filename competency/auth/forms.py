"""Forms for logging in and out and for the language switcher."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired


class LoginForm(FlaskForm):
    identifier = StringField(_l("Staff number or email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Log in"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Log out"))


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[AnyOf(["zh", "en"])])
    next = HiddenField()
