"""Forms of cycle administration."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..ksa.forms import CheckboxesField


class CycleForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    version = SelectField(_l("Competency model"), coerce=int)
    period_start = DateField(_l("Period start"), validators=[DataRequired()])
    period_end = DateField(_l("Period end"), validators=[DataRequired()])
    self_deadline = DateField(_l("Self-assessment deadline"), validators=[DataRequired()])
    supervisor_deadline = DateField(_l("Supervisor assessment deadline"), validators=[DataRequired()])
    self_weight = IntegerField(_l("Self weight (%)"), default=30, validators=[NumberRange(0, 99)])
    supervisor_weight = IntegerField(_l("Supervisor weight (%)"), default=70, validators=[NumberRange(1, 100)])
    blind = BooleanField(_l("Supervisor rates blind (sees the self-assessment only after submitting)"), default=True)
    org_unit = SelectField(_l("Participants: org unit (with its sub-units)"), coerce=str, validators=[Optional()])
    grades = CheckboxesField(_l("Participants: grades (none ticked: all)"))
    submit = SubmitField(_l("Save"))

    def validate_supervisor_weight(self, field):
        if (self.self_weight.data or 0) + (field.data or 0) != 100:
            raise ValidationError(_l("Self and supervisor weights must add up to 100."))


class ActionForm(FlaskForm):
    """A POST-only button (open, close) that still carries CSRF."""


class StatusFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()])
