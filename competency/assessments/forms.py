"""The rating form (built per model version) and hr's forms on an assessment."""
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..formutil import PersonField, Whole, options
from ..i18n import localized
from ..models import LEVELS
from ..services.ksa.versions import SCALE

LEVEL_CHOICES = options((str(level), str(level)) for level in LEVELS)


def rating_form(parts, ratings: dict, lock_version: int, overall: tuple[str, str] = ("", ""), formdata=None):
    """A form with, per competency of the version (`parts`, see services.ksa.published), a level 1–5 (the
    descriptors are the choices) and a comment, and the rater's overall comment: strengths and what to develop."""
    form_class = _rating_form_class(tuple((c.id, c.code) for c in parts.competencies))
    data = {"lock_version": lock_version, "strengths": overall[0], "to_develop": overall[1]}
    for comp_id, rating in ratings.items():
        data[f"level_{comp_id}"] = str(rating.level) if rating.level else None
        data[f"comment_{comp_id}"] = rating.comment
    return form_class(formdata=formdata, data=data) if formdata is not None else form_class(data=data)


@lru_cache(maxsize=16)
def rating_texts(parts, language: str) -> tuple[dict[int, str], dict[int, tuple[str, str, list[tuple[str, Markup]]]]]:
    """What the rating form shows of a version in `language` ("zh" or "en", else the other when empty): the level
    names, and per competency its name, its description and, for each level, its value and the rest of its radio
    button after `checked` and `disabled` (id, name, value, and the label: level, name, descriptor), escaped once.
    Kept per published version, whose parts are the same object on every read; a draft's are new on each read."""
    names = {level: str(SCALE[level][0]) for level in LEVELS}
    radio = Markup(' id="level_{id}-{index}" name="level_{id}" type="radio" value="{level}">\n          '
                   '<span><strong>{level} · {name}</strong><br><span class="small">{descriptor}</span></span>')
    texts = {c.id: (localized(c, "name", language), localized(c, "description", language),
                    [(str(level), radio.format(id=c.id, index=index, level=level, name=names[level],
                                               descriptor=localized(c.descriptor(level), "text", language)))
                     for index, level in enumerate(LEVELS)])
             for c in parts.competencies}
    return names, texts


def radio_group(radios, checked: str | None, editable: bool, invalid: Markup | str) -> Markup:
    """One competency's level radio buttons as the template wrote them, joined here: 80 radios a form, each written by
    the template, were a fifth of the page's cost. `radios` from `rating_texts` (already escaped); `checked` the value
    chosen, if any; `invalid` the attributes that tie the buttons to their error."""
    disabled = "" if editable else " disabled"
    return Markup("".join(f'\n        <label class="level-option"><input{" checked" if value == checked else ""}{disabled}'
                          f'{invalid}{radio}</label>' for value, radio in radios))


@lru_cache(maxsize=64)
def _rating_form_class(competencies: tuple[tuple[int, str], ...]) -> type[FlaskForm]:
    """The form class for these competencies (id, code), made once per process: it depends on nothing else."""

    class RatingForm(FlaskForm):
        lock_version = Whole("lock_version", widget=HiddenField.widget)  # a label, or WTForms translates one for it
        # Where the person was (the id of the last item or section they touched, set by static/js/rating-form.js):
        # a saved draft opens the form again there. Optional: without it the last rated item is taken.
        anchor = HiddenField("anchor", validators=[Optional(), Length(max=40)])
        strengths = TextAreaField(_l("Strengths"), validators=[Length(max=4000)])
        to_develop = TextAreaField(_l("What to develop"), validators=[Length(max=4000)])
        save = SubmitField(_l("Save draft"))
        submit = SubmitField(_l("Submit"))

    for comp_id, code in competencies:
        setattr(RatingForm, f"level_{comp_id}", RadioField(code, choices=LEVEL_CHOICES, validators=[Optional()]))
        setattr(RatingForm, f"comment_{comp_id}", TextAreaField(_l("Comment"), validators=[Length(max=2000)]))
    return RatingForm


class ReopenForm(FlaskForm):
    phase = SelectField(_l("Reopen to"), choices=options([("self", _l("Self-assessment")), ("supervisor", _l("Supervisor assessment"))]))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Reopen"))


class ChangeSupervisorForm(FlaskForm):
    staff_no = PersonField(_l("Assessing supervisor"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Change supervisor"))
