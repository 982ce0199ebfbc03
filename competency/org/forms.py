"""Forms for filtering and editing employees."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from ..formutil import PersonField, grade_options, options, org_unit_options
from ..i18n import label, localized
from ..models import EmployeeStatus


def _status_choices(blank):
    return options(([("", blank)] if blank else []) + [(s.value, label(s)) for s in EmployeeStatus])


class EmployeeFilterForm(FlaskForm):
    """GET filters of the employee list (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=80)])
    org_unit = SelectField(_l("Org unit"), coerce=str, validators=[Optional()])
    position = SelectField(_l("Position"), coerce=str, validators=[Optional()])
    grade = SelectField(_l("Grade"), validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()])

    def fill_choices(self, positions):
        """Options for the selects, in the current language."""
        everything = _l("All")
        self.org_unit.choices = org_unit_options(everything)
        self.position.choices = options([("", everything)] + [(str(p.id), localized(p)) for p in positions])
        self.grade.choices = grade_options(everything)
        self.status.choices = _status_choices(everything)


class PeopleSearchForm(FlaskForm):
    """What a person picker asks for as its user types (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(validators=[Optional(), Length(max=200)])
    scope = StringField(validators=[Optional(), Length(max=20)])


class EditEmployeeForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=120)])
    org_unit = SelectField(_l("Org unit"), coerce=int)
    position = SelectField(_l("Position"), coerce=int)
    grade = SelectField(_l("Grade"))
    status = SelectField(_l("Status"))
    hire_date = DateField(_l("Hire date"), validators=[DataRequired()])
    probation_end = DateField(_l("Probation end"), validators=[DataRequired()])
    supervisor = PersonField(_l("Supervisor"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))

    def fill_choices(self, positions):
        """Options for the selects, in the current language."""
        self.org_unit.choices = org_unit_options(as_int=True)
        self.position.choices = options([(p.id, localized(p)) for p in positions])
        self.grade.choices = grade_options()
        self.status.choices = _status_choices(None)
