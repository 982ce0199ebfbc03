"""Forms of the inbox, the e-mail choices and the failed e-mails."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField
from wtforms.validators import Optional

from ..services.notifications.kinds import optional_kinds


class ActionForm(FlaskForm):
    """A POST-only button (mark all read, retry): only the CSRF token."""


def email_choices_form(choices: dict[str, bool]):
    """A form with one tick per optional kind ("e-mail me"), ticked as the account chose."""

    class EmailChoicesForm(FlaskForm):
        submit = SubmitField()

    for kind in optional_kinds():
        setattr(EmailChoicesForm, f"kind_{kind.name}", BooleanField(kind.label, validators=[Optional()],
                                                                    default=choices.get(kind.name, True)))
    return EmailChoicesForm()
