"""Shared form helpers: select options, the indented org unit choices, labelled grade choices, the competency and
level choices, person pickers, and number fields bounded to what their columns hold."""
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField, SelectChoice, StringField, ValidationError

from .errors import DomainError
from .i18n import label, localized
from .models import LEVELS, Category, Grade
from .models.limits import within
from .services import access, people
from .services.ksa.versions import SCALE
from .services.org import unit_tree


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def org_unit_options(blank=None, as_int: bool = False) -> list[SelectChoice]:
    """Every org unit in tree order, indented by depth, in the user's language (a first blank option when a
    label is given). Values are strings, or ints with `as_int`."""
    units = [(u.id if as_int else str(u.id), "\u00a0\u00a0" * depth + localized(u)) for u, depth in unit_tree()]
    return options(([("", blank)] if blank is not None else []) + units)


def grade_options(blank=None) -> list[SelectChoice]:
    """The grades with their translated labels (a first blank option when a label is given)."""
    return options(([("", blank)] if blank is not None else []) + [(g.value, label(g)) for g in Grade])


CATEGORY_NAMES = {Category.K: _l("Knowledge"), Category.S: _l("Skills"), Category.A: _l("Abilities")}


def competency_options(competencies, blank=None, also=()) -> list[SelectChoice]:
    """The competencies (code, category, name_zh, name_en; services.ksa.versions.published_competencies) as options
    "K1 产品知识" grouped by category, K, S, A (a first blank option when a label is given). `also`: codes to offer
    besides, marked as not in a published model (those an existing course still names, so that its rows show them)."""
    choices = [SelectChoice("", blank)] if blank is not None else []
    choices += [SelectChoice(c.code, f"{c.code} {localized(c)}", optgroup=f"{c.category.value} {CATEGORY_NAMES[c.category]}")
                for c in competencies]
    known = {c.code for c in competencies}
    outside = str(_l("Not in a published model"))
    choices += [SelectChoice(code, f"{code} ({outside})", optgroup=outside) for code in also if code not in known]
    return choices


def level_options(blank=None) -> list[SelectChoice]:
    """The proficiency levels 1–5 with their names, "3 · 熟练" (a first blank option when a label is given)."""
    return options(([("", blank)] if blank is not None else []) + [(str(level), f"{level} · {SCALE[level][0]}") for level in LEVELS])


class PersonField(StringField):
    """A person picker (the template macro `person_field`): it takes a staff number, the "staff number name" its list
    fills in, or the name of a single person, among the people of its scope (services.access.picker_scope: "visible",
    "assignable" or "mentoring"). Validating resolves it: `person` is the Employee, None when left empty; a text that
    names nobody or several people is an error at the field, naming them."""

    def __init__(self, label=None, validators=None, scope: str = "visible", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.scope, self.person = scope, None

    def post_validate(self, form, validation_stopped):
        from flask_login import current_user

        self.person = None
        if validation_stopped or self.errors or not (self.data or "").strip():
            return
        try:
            self.person = people.resolve_person(access.picker_scope(current_user, self.scope), self.data)
        except DomainError as error:
            raise ValidationError(str(error)) from None

    def show(self, person) -> None:
        """Show a person in the field (an edit page's current value)."""
        self.data = people.person_text(person)


def edit_form(form_class, obj=None):
    """The form of an edit page: showing the object, or on a POST only what was sent (a field left out of a crafted
    request is then missing and refused, instead of silently taking the object's value — a list, say)."""
    from flask import request

    return form_class() if request.method == "POST" else form_class(obj=obj)


INT_MAX = 2_147_483_647  # an INTEGER column (32 bits on PostgreSQL)
TEXT_MAX = 4000  # free text (descriptions, comments) typed into a form


class Amount(DecimalField):
    """A decimal its NUMERIC(digits, places) column can hold: finite (no NaN, no 1e400), rounded to `places`, and
    below 10^(digits − places) in size. Anything else is a form error, never a database error or a poisoned page."""

    def __init__(self, label=None, validators=None, *, digits: int, places: int, **kwargs):
        super().__init__(label, validators, places=places, **kwargs)
        self.digits, self.places = digits, places
        self.limit = Decimal(10) ** (digits - places)
        self.quantum = Decimal(1).scaleb(-places)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if not valuelist or self.data is None:
            return
        if not within(self.data, self.digits, self.places):
            self.data = None
            raise ValueError(_l("Enter a number smaller than %(limit)s.", limit=f"{self.limit:,}"))
        self.data = self.data.quantize(self.quantum, rounding=ROUND_HALF_UP)


class Whole(IntegerField):
    """A whole number an INTEGER column holds."""

    def pre_validate(self, form):
        if self.data is not None and abs(self.data) > INT_MAX:
            raise ValidationError(_l("Enter a number smaller than %(limit)s.", limit=f"{INT_MAX:,}"))


def show_error(form, error) -> None:
    """A domain error at the form field it names (a `FieldError` about a field of this form), else as a flash."""
    from flask import flash

    name = getattr(error, "field", None)
    if name is not None and name in form:
        form[name].errors = [*form[name].errors, str(error)]
    else:
        flash(str(error), "error")
