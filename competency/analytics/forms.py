"""The chart and export filters."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    cycle = SelectField(_l("Assessment cycle"), validators=[Optional()])
    org_unit = SelectField(_l("Org unit (with sub-units)"), validators=[Optional()])
    position = SelectField(_l("Position"), validators=[Optional()])
    grade = SelectField(_l("Grade"), validators=[Optional()])
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=2100)])
