"""Forms of acknowledgement, appeal and resolution."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from ..formutil import grade_options, options
from ..models import Grade


class RespondForm(FlaskForm):
    """The employee's word on a result: acknowledge (comment optional) or appeal (reason required)."""

    choice = RadioField(_l("Your response"), validators=[InputRequired()], choices=options([
        ("acknowledge", _l("I acknowledge it (确认)")), ("appeal", _l("I appeal against it (申诉)"))]))
    text = TextAreaField(_l("Comment (optional to acknowledge; the reason of an appeal)"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Send"))


class ResolveForm(FlaskForm):
    """hr's resolution of an appeal."""

    outcome = RadioField(_l("Resolution"), validators=[InputRequired()])
    grade = SelectField(_l("New grade (to change a grade decision)"), validate_choice=False)
    response = TextAreaField(_l("Response to the employee"), validators=[InputRequired(), Length(max=2000)])
    submit = SubmitField(_l("Resolve"))

    def validate_grade(self, field):
        if self.outcome.data == "change" and field.data not in {g.value for g in Grade}:
            raise ValidationError(_l("Choose the new grade."))

    def for_appeal(self, appeal) -> "ResolveForm":
        """The outcomes that fit the appeal: uphold, and reopen (a result) or change the grade (a decision)."""
        second = ("change", _l("Change the grade")) if appeal.about_grade else ("reopen", _l("Reopen to the supervisor"))
        self.outcome.choices = options([("uphold", _l("Uphold (keep it as it is)")), second])
        self.grade.choices = grade_options()
        return self
