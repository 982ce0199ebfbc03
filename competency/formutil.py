"""Shared form helpers: select options, the indented org unit choices, labelled grade choices."""
from wtforms import SelectChoice

from .i18n import label, localized
from .models import Grade
from .services.org import org_tree


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def org_unit_options(blank=None, as_int: bool = False) -> list[SelectChoice]:
    """Every org unit in tree order, indented by depth, in the user's language (a first blank option when a
    label is given). Values are strings, or ints with `as_int`."""
    units = [(u.id if as_int else str(u.id), "\u00a0\u00a0" * depth + localized(u)) for u, depth, _n in org_tree()]
    return options(([("", blank)] if blank is not None else []) + units)


def grade_options(blank=None) -> list[SelectChoice]:
    """The grades with their translated labels (a first blank option when a label is given)."""
    return options(([("", blank)] if blank is not None else []) + [(g.value, label(g)) for g in Grade])
