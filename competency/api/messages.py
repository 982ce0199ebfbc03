"""The messages marshmallow and webargs give for a request that does not fit its schema, in the request's language:
they speak English only, so each one the API's schemas can produce is listed here (for the catalogue) and read
back, values and all, into its translation (`translate`)."""
import re
from functools import cache

from flask_babel import gettext


def N_(message: str) -> str:
    """Marks a message for the catalogue (`pybabel extract -k N_`); translated when it is shown."""
    return message


# Each as marshmallow (3 and 4) and webargs write it, placeholders as they fill them in.
TEMPLATES = (
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Invalid value."),
    N_("Invalid JSON body."),
    N_("Not a valid string."),
    N_("Not a valid utf-8 string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Number too large."),
    N_("Special numeric values (nan or infinity) are not permitted."),
    N_('"{input}" cannot be formatted as a date.'),
    N_("Must be one of: {choices}."),
    N_("Length must be between {min} and {max}."),
    N_("Longer than maximum length {max}."),
    N_("Shorter than minimum length {min}."),
    N_("Length must be {equal}."),
    N_("Must be greater than or equal to {min} and less than or equal to {max}."),
    N_("Must be greater than or equal to {min}."),
    N_("Must be less than or equal to {max}."),
)


@cache
def _patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """(a regular expression matching the message with its values, its template), most specific first."""
    patterns = []
    for template in TEMPLATES:
        pieces = re.split(r"\{(\w+)\}", template)
        source = "".join(re.escape(piece) if n % 2 == 0 else f"(?P<{piece}>.*)" for n, piece in enumerate(pieces))
        patterns.append((re.compile(source, re.DOTALL), template))
    return tuple(sorted(patterns, key=lambda p: -len(p[1])))


def translate(message: str) -> str:
    """The message in the request's language (itself when it is not one of the templates)."""
    for pattern, template in _patterns():
        found = pattern.fullmatch(message)
        if found:
            return gettext(template).format(**found.groupdict())
    return message
