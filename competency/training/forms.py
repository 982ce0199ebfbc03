"""Forms of training and credits."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..formutil import TEXT_MAX, Amount, PersonField, Whole, competency_options, level_options, options
from ..i18n import LABELS
from ..models import LEVELS, CourseType, Delivery, Grade
from ..services.training.catalogue import unknown_codes, unknown_codes_message

TYPE_LABELS = {t: LABELS[t] for t in CourseType}
DELIVERY_LABELS = {d: LABELS[d] for d in Delivery}


class ActionForm(FlaskForm):
    """A POST-only button that still carries CSRF."""


class CompetencyRowForm(Form):
    """One row of the course editor: a competency the course develops, and up to which level. The names are those
    of CourseCompetency, so an existing course's rows fill themselves."""

    competency_code = SelectField(_l("Competency"), validate_choice=False, validators=[Optional(), Length(max=32)])
    up_to_level = SelectField(_l("Up to level"), validate_choice=False, validators=[Optional()])


# Empty rows a course page shows below the filled ones, so that it works without script (which adds more).
EMPTY_ROWS = 3
MAX_ROWS = 40


class CourseForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    type = SelectField(_l("Type"), choices=options((t.value, TYPE_LABELS[t]) for t in CourseType))
    delivery = SelectField(_l("Delivery"), choices=options((d.value, DELIVERY_LABELS[d]) for d in Delivery))
    hours = Amount(_l("Hours"), digits=6, places=1, validators=[InputRequired(), NumberRange(min=Decimal("0.1"))])
    credits = Amount(_l("Credits"), digits=6, places=2, validators=[InputRequired(), NumberRange(min=0)])
    competencies = FieldList(FormField(CompetencyRowForm), min_entries=0, max_entries=MAX_ROWS)
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Length(max=TEXT_MAX)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Length(max=TEXT_MAX)])
    active = BooleanField(_l("Active (can be assigned and enrolled in)"), default=True)
    submit = SubmitField(_l("Save"))
    _known: frozenset = frozenset()  # the published codes, once fill_competencies has read them

    def fill_competencies(self, published) -> None:
        """The rows' choices — the published competencies (services.ksa.versions.published_competencies), and any
        other code a row names — and, on a page shown afresh, EMPTY_ROWS empty rows below the filled ones."""
        self._known = frozenset(c.code for c in published)
        if not self.is_submitted():
            for _row in range(EMPTY_ROWS):
                self.competencies.append_entry()
        named = [row.competency_code.data for row in self.competencies if row.competency_code.data]
        choices, levels = competency_options(published, blank="—", also=named), level_options(blank="—")
        for row in self.competencies:
            row.competency_code.choices, row.up_to_level.choices = choices, levels

    def validate_competencies(self, field):
        """Each row names a competency of a published model, once, with a level 1–5; an empty row is ignored. The
        errors are shown at the row."""
        seen, wrong = {}, False
        unknown = set(unknown_codes([r.competency_code.data for r in field if r.competency_code.data], self._known))
        for number, row in enumerate(field, start=1):
            code, level = row.competency_code.data or "", row.up_to_level.data or ""
            problem = None
            if code in unknown:
                problem = (row.competency_code, unknown_codes_message([code]))
            elif code in seen:
                problem = (row.competency_code, _l("%(code)s is already on row %(row)s.", code=code, row=seen[code]))
            elif code and level not in {str(n) for n in LEVELS}:
                problem = (row.up_to_level, _l("Choose up to which level the course develops %(code)s.", code=code))
            elif level and not code:
                problem = (row.competency_code, _l("Choose the competency, or clear the level."))
            seen.setdefault(code, number)
            if problem is not None:
                problem[0].errors = [*problem[0].errors, problem[1]]
                wrong = True
        if wrong:
            raise ValidationError(_l("Correct the competencies marked below: nothing was saved."))

    def competency_levels(self) -> dict[str, int]:
        """{code: level} of the filled rows (after validation)."""
        return {row.competency_code.data: int(row.up_to_level.data) for row in self.competencies if row.competency_code.data}


class SessionForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("Starts"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    place = StringField(_l("Place"), validators=[Length(max=200)])
    trainer = PersonField(_l("Trainer"), validators=[Optional(), Length(max=200)])
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
    staff_no = PersonField(_l("Employee"), validators=[Optional(), Length(max=200)], scope="assignable")
    org_unit = SelectField(_l("Org unit (with sub-units)"), validators=[Optional()])
    grade = SelectField(_l("Grade"), validators=[Optional()])
    position = SelectField(_l("Position"), validators=[Optional()])
    competency = SelectField(_l("Competency"), validate_choice=False, validators=[Optional(), Length(max=32)])
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
    mentor = PersonField(_l("Mentor"), validators=[DataRequired(), Length(max=200)], scope="mentoring")
    mentee = PersonField(_l("New colleague"), validators=[DataRequired(), Length(max=200)], scope="mentoring")
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
