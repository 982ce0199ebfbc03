"""Forms of the competency model editor."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..formutil import TEXT_MAX, Amount, options
from ..i18n import LABELS
from ..models import LEVELS, Grade

LEVEL_OPTIONS = [("", "—")] + [(str(level), str(level)) for level in LEVELS]


class ActionForm(FlaskForm):
    """A POST-only button (publish, retire, remove …) that still carries CSRF."""


class VersionNameForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Save"))


class ImportModelForm(FlaskForm):
    file = FileField(_l("Model file (.yaml or .xlsx)"), validators=[
        FileRequired(), FileAllowed(["yaml", "yml", "xlsx"], _l("Use a .yaml or .xlsx file."))])
    submit = SubmitField(_l("Import as a new draft"))


class DutyAreaForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    tasks_zh = TextAreaField(_l("Tasks (Chinese), one per line"), validators=[Length(max=TEXT_MAX)])
    tasks_en = TextAreaField(_l("Tasks (English), one per line"), validators=[Length(max=TEXT_MAX)])
    submit = SubmitField(_l("Save"))


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CompetencyForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    cluster = SelectField(_l("Cluster"), coerce=int)
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Length(max=TEXT_MAX)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Length(max=TEXT_MAX)])
    weight = Amount(_l("Weight"), digits=8, places=2,
                    validators=[InputRequired(), NumberRange(min=Decimal("0.01"), message=_l("The weight must be positive."))])
    duty_areas = CheckboxesField(_l("Duty areas it serves"), coerce=int)
    submit = SubmitField(_l("Save"))


for _level in LEVELS:
    setattr(CompetencyForm, f"descriptor_{_level}_zh", TextAreaField(_l("Level %(level)s (Chinese)", level=_level),
                                                                     validators=[Length(max=TEXT_MAX)]))
    setattr(CompetencyForm, f"descriptor_{_level}_en", TextAreaField(_l("Level %(level)s (English)", level=_level),
                                                                     validators=[Length(max=TEXT_MAX)]))
for _grade in Grade:
    setattr(CompetencyForm, f"target_{_grade.value}", SelectField(LABELS[_grade], choices=options(LEVEL_OPTIONS), validators=[Optional()]))


def targets_form(version):
    """A form with one level select per competency and grade of the version."""

    class TargetsForm(FlaskForm):
        submit = SubmitField(_l("Save targets"))

    for comp in version.competencies:
        for grade in Grade:
            setattr(TargetsForm, f"t_{comp.id}_{grade.value}", SelectField(
                f"{comp.code} {grade.value}", choices=options(LEVEL_OPTIONS), validators=[Optional()],
                default=str(comp.target(grade) or "")))
    return TargetsForm()
