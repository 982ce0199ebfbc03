"""Forms of training and credits."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..formutil import TEXT_MAX, Amount, Whole, options
from ..i18n import LABELS
from ..models import CourseType, Delivery, Grade
from ..services.training.catalogue import parse_competencies

TYPE_LABELS = {t: LABELS[t] for t in CourseType}
DELIVERY_LABELS = {d: LABELS[d] for d in Delivery}


class ActionForm(FlaskForm):
    """A POST-only button that still carries CSRF."""


class CourseForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    type = SelectField(_l("Type"), choices=options((t.value, TYPE_LABELS[t]) for t in CourseType))
    delivery = SelectField(_l("Delivery"), choices=options((d.value, DELIVERY_LABELS[d]) for d in Delivery))
    hours = Amount(_l("Hours"), digits=6, places=1, validators=[InputRequired(), NumberRange(min=Decimal("0.1"))])
    credits = Amount(_l("Credits"), digits=6, places=2, validators=[InputRequired(), NumberRange(min=0)])
    competencies = StringField(_l("Competencies developed (CODE:LEVEL; …)"), validators=[Length(max=300)])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Length(max=TEXT_MAX)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Length(max=TEXT_MAX)])
    active = BooleanField(_l("Active (can be assigned and enrolled in)"), default=True)
    submit = SubmitField(_l("Save"))

    def validate_competencies(self, field):
        try:
            parse_competencies(field.data)
        except ValueError as bad:
            raise ValidationError(_l("Write competencies as CODE:LEVEL separated by semicolons, levels 1 to 5 "
                                     "(problem: %(part)s).", part=str(bad))) from None


class SessionForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("Starts"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    place = StringField(_l("Place"), validators=[Length(max=200)])
    trainer = StringField(_l("Trainer's staff number"), validators=[Optional(), Length(max=32)])
    capacity = Whole(_l("Capacity"), validators=[InputRequired(), NumberRange(min=1, max=100_000)])
    open = BooleanField(_l("Open for enrolment"), default=True)
    confirm_past = BooleanField(_l("Yes, save this session with dates in the past"))
    submit = SubmitField(_l("Save"))


class AssignForm(FlaskForm):
    """The assignment wizard: a course and due date, then who: one person, a filtered list, or a gap."""

    course = SelectField(_l("Course"), coerce=int)
    due_date = DateField(_l("Due date"), validators=[Optional()])
    mode = SelectField(_l("Assign to"), choices=options([
        ("one", _l("One employee")), ("list", _l("A filtered list")), ("gap", _l("Everyone with a gap on a competency"))]))
    staff_no = StringField(_l("Staff number"), validators=[Optional(), Length(max=32)])
    org_unit = SelectField(_l("Org unit (with sub-units)"), validators=[Optional()])
    grade = SelectField(_l("Grade"), validators=[Optional()])
    position = SelectField(_l("Position"), validators=[Optional()])
    competency = StringField(_l("Competency code"), validators=[Optional(), Length(max=32)])
    cycle = SelectField(_l("Assessment cycle"), validators=[Optional()])
    min_gap = Amount(_l("Gap of at least"), digits=2, places=1, default=1,
                           validators=[Optional(), NumberRange(min=Decimal("0.1"), max=Decimal("4"))])
    confirm = HiddenField()
    preview = SubmitField(_l("Count the people"))
    submit = SubmitField(_l("Assign"))


class RosterForm(FlaskForm):
    """Bulk results on a roster: the ticked enrolments get the same outcome."""

    enrolments = SelectMultipleField(coerce=int)
    outcome = SelectField(_l("Outcome"), choices=options([("pass", _l("Passed")), ("fail", _l("Failed")), ("absent", _l("Absent"))]))
    score = Amount(_l("Score (optional)"), digits=5, places=1, validators=[Optional(), NumberRange(min=0, max=100)])
    on = DateField(_l("Date"), validators=[Optional()])
    submit = SubmitField(_l("Record for the ticked people"))


class UndoForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Undo completion"))


class AdjustForm(FlaskForm):
    """A manual adjustment; `key`, new each time the form is shown, makes the same form sent twice add one line."""

    key = HiddenField(validators=[Optional(), Length(max=32)])
    amount = Amount(_l("Credits (negative to deduct)"), digits=7, places=2, validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    on = DateField(_l("Date earned"), validators=[Optional()])
    submit = SubmitField(_l("Add adjustment"))


class ReverseForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Reverse"))


class RequirementsForm(FlaskForm):
    submit = SubmitField(_l("Save requirements"))


for _grade in Grade:
    setattr(RequirementsForm, _grade.value, Amount(LABELS[_grade], digits=6, places=2, validators=[InputRequired(), NumberRange(min=0)]))


class MentoringForm(FlaskForm):
    mentor = StringField(_l("Mentor's staff number"), validators=[DataRequired(), Length(max=32)])
    mentee = StringField(_l("New colleague's staff number"), validators=[DataRequired(), Length(max=32)])
    course = SelectField(_l("Mentoring course"), coerce=int)
    submit = SubmitField(_l("Pair them"))


class CertificationForm(FlaskForm):
    name = StringField(_l("Certification"), validators=[DataRequired(), Length(max=120)])
    issuer = StringField(_l("Issuer"), validators=[Length(max=200)])
    number = StringField(_l("Certificate number"), validators=[Length(max=80)])
    issued_on = DateField(_l("Issued on"), validators=[DataRequired()])
    expires_on = DateField(_l("Expires on"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class YearForm(FlaskForm):
    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=2100)])
