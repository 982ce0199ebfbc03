"""Forms of the annual review, standards, settings and probation."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..formutil import Amount, options
from ..i18n import LABELS
from ..models import Grade
from ..timeutil import bank_today


class RunForm(FlaskForm):
    year = IntegerField(_l("Performance year"), default=lambda: bank_today().year - 1,
                        validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    anyway = BooleanField(_l("I have read the warnings: run the review anyway (people with missing data are "
                             "referred to hr)"))
    check = SubmitField(_l("Check readiness"))
    submit = SubmitField(_l("Run the review"))


class BulkDecisionForm(FlaskForm):
    items = SelectMultipleField(coerce=int)
    reason = StringField(_l("Reason (needed to reject)"), validators=[Length(max=500)])
    approve = SubmitField(_l("Approve ticked"))
    approve_all = SubmitField(_l("Approve all"))
    reject = SubmitField(_l("Reject ticked"))


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=options([("approved", _l("Approve")), ("overridden", _l("Override")),
                                                           ("rejected", _l("Reject"))]), default="approved")
    grade = SelectField(_l("Grade (for an override)"), choices=options((g.value, LABELS[g]) for g in Grade))
    reason = TextAreaField(_l("Reason (needed to override or reject)"), validators=[Length(max=1000)])
    submit = SubmitField(_l("Save decision"))


class FinaliseForm(FlaskForm):
    effective = DateField(_l("Effective date"), validators=[DataRequired()], widget=HiddenInput())
    fingerprint = HiddenField()
    submit = SubmitField(_l("Finalise"))


class EffectiveDateForm(FlaskForm):
    """The effective date chosen before the finalising summary (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    effective = DateField(_l("Effective date"), validators=[DataRequired()])
    submit = SubmitField(_l("Review what finalising will do"))


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validators=[Optional()])
    org_unit = SelectField(_l("Org unit (with sub-units)"), validators=[Optional()])


class StandardsForm(FlaskForm):
    unit = StringField(_l("Sales unit"), validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Save standards"))


for _grade in ("junior", "intermediate", "senior"):
    setattr(StandardsForm, f"{_grade}_sales",
            Amount(_l("Minimum annual sales"), digits=14, places=2, validators=[InputRequired(), NumberRange(min=0)]))
    setattr(StandardsForm, f"{_grade}_score",
            Amount(_l("Minimum overall score"), digits=5, places=1, validators=[InputRequired(), NumberRange(min=0, max=100)]))
    setattr(StandardsForm, f"{_grade}_credits",
            Amount(_l("Minimum credits in the year"), digits=6, places=2, validators=[InputRequired(), NumberRange(min=0)]))
    setattr(StandardsForm, f"{_grade}_certification", StringField(_l("Required certification (optional)"), validators=[Length(max=120)]))


class StandardsFileForm(FlaskForm):
    file = FileField(_l("Standards file (.yaml)"), validators=[FileRequired(), FileAllowed(["yaml", "yml"], _l("Use a .yaml file."))])
    submit = SubmitField(_l("Import standards"))


class SettingsForm(FlaskForm):
    probation_months = IntegerField(_l("Probation length (months)"), validators=[InputRequired(), NumberRange(min=1, max=24)])
    four_eyes = BooleanField(_l("Four eyes (双人复核): a second person finalises a review"))
    appeal_days = IntegerField(_l("Days to acknowledge or appeal a result or a grade decision"),
                               validators=[InputRequired(), NumberRange(min=1, max=90)])
    submit = SubmitField(_l("Save"))


class ProbationForm(FlaskForm):
    qualified = RadioField(_l("Probation"), choices=options([("yes", _l("Qualified (合格)")), ("no", _l("Not qualified (不合格)"))]),
                           validators=[InputRequired()])
    comment = TextAreaField(_l("Comment (needed when not qualified)"), validators=[Length(max=1000)])
    submit = SubmitField(_l("Confirm"))
