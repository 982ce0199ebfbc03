"""Shared form helpers: select options, the indented org unit choices, labelled grade choices, and number fields
bounded to what their columns hold."""
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField, SelectChoice, ValidationError

from .i18n import label, localized
from .models import Grade
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
        self.limit = Decimal(10) ** (digits - places)
        self.quantum = Decimal(1).scaleb(-places)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if not valuelist or self.data is None:
            return
        # checked before rounding (rounding a huge number overflows) and after (9999.995 rounds to 10000.00)
        if not self.data.is_finite() or abs(self.data) >= self.limit or \
                abs(self.data.quantize(self.quantum, rounding=ROUND_HALF_UP)) >= self.limit:
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
