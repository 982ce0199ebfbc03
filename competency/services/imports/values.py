"""Cell values as Chinese bank staff write them: the product's own labels for coded values (见习, 一级分行, 自评,
通过 — taken from the app's translations, so they cannot drift), dates as 2024/3/1, 2024年3月1日, 2024.03.01,
"2024-03-01 00:00:00", 20240301 or an Excel serial number, amounts as ¥1,234.50, whole numbers as 3.0, lists with full-width
；and ：, and identifiers that differ only by leading zeros."""
import re
import unicodedata
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import force_locale

from ...models.limits import WHOLE_DIGITS
from .headers import normalise

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
# Excel counts days from 1899-12-30 (keeping Lotus 1-2-3's false 29 February 1900); serials from 10000 to 99999 are
# the years 1927 to 2173, so that no other number is taken for a date.
_EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")  # 20240301, as banking systems write dates
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")


def plain(text: str) -> str:
    """NFKC of the text: full-width digits, letters, ￥, ；, ：, （ ） as their ASCII forms."""
    return unicodedata.normalize("NFKC", text or "").strip()


# The dates an import takes: a person's, a training's, a cycle's (a year like 9999 is a typing error, and dates
# computed from it, a probation's end, would not exist).
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2100, 12, 31)


def parse_date(text: str, bounded: bool = True) -> date:
    """A date written YYYY-MM-DD, YYYY/M/D, YYYY.MM.DD, YYYY年M月D日 (a time of day after it is ignored) or YYYYMMDD, or
    an Excel serial number, from FIRST_DATE to LAST_DATE (`bounded`); ValueError otherwise."""
    text = plain(text)
    match = _DATE.match(text) or _COMPACT.match(text)
    if match:
        day = date(*(int(part) for part in match.groups()))
    elif _SERIAL.match(text):
        day = _EXCEL_EPOCH + timedelta(days=int(float(text)))
    else:
        raise ValueError(text)
    if bounded and not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError(text)
    return day


def parse_number(text: str) -> Decimal | None:
    """A finite number, allowing a ¥/￥/RMB sign, 元 after it, thousands separators and full-width digits; None if
    it is not one."""
    text = plain(text)
    for sign in ("¥", "RMB", "CNY"):
        text = text.removeprefix(sign).strip()
    text = text.removesuffix("元").strip()
    if _GROUPED.match(text):
        text = text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def step_of(attribute) -> Decimal:
    """The smallest step of a NUMERIC column: 0.01 for two decimals (read once per column, not per value)."""
    return Decimal(1).scaleb(-attribute.type.scale)


def at_scale(value: Decimal | None, step: Decimal) -> Decimal | None:
    """The number as its NUMERIC column keeps it: rounded half up to the column's step (`step_of`). The database would
    round it anyway; rounded first, the same figure sent again compares equal to the stored one (and stays unchanged)."""
    if value is None:
        return None
    try:
        return value.quantize(step, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than any column holds: left as it is, for the caller to refuse as too large
        return value


def whole(value: Decimal | None) -> int | None:
    """The number as an int when it is whole and has at most WHOLE_DIGITS digits; None otherwise."""
    if value is None or not value.is_finite() or (value and value.adjusted() >= WHOLE_DIGITS) or value != value.to_integral_value():
        return None
    return int(value)


def parse_whole(text: str) -> int | None:
    """A whole number, written 3 or 3.0 (as a spreadsheet may give it); None if it is not one (or is beyond any)."""
    return whole(parse_number(text))


def parse_list(text: str) -> str:
    """A list written with full-width or Chinese separators (；：、，) in its ASCII form (; and :)."""
    return plain(text).replace("、", ";")


def choices(enum_cls, synonyms: dict | None = None) -> dict:
    """{normalised name: code} of a coded value: each code, its label in every language of the app (the labels the
    pages show, from its translations) and the extra synonyms given ({enum member: (name, …)})."""
    from flask import current_app

    from ...i18n import LABELS

    labels = {member: LABELS[member] for member in enum_cls}
    table = {}
    for member in labels:
        table[normalise(member.value)] = member.value
        for name in (synonyms or {}).get(member, ()):
            table[normalise(name)] = member.value
    for language in current_app.config.get("LANGUAGES", ("zh", "en")):
        with force_locale(language):
            for member, label in labels.items():
                table.setdefault(normalise(str(label)), member.value)
    return table


def choose(table: dict, text: str) -> str | None:
    """The code the text names in a table made by `choices`, or None."""
    return table.get(normalise(text)) if text else None


def unpadded(identifier: str) -> str:
    """An identifier without its leading zeros ("00123" → "123"; "000" → "0")."""
    return identifier.lstrip("0") or ("0" if identifier else "")


def zero_twins(identifiers) -> dict:
    """{identifier without leading zeros: identifier} of the identifiers, to find one written with other zeros."""
    return {unpadded(i): i for i in identifiers if i}


def twin(identifier: str, twins: dict) -> str | None:
    """The other identifier that differs from this one only by leading zeros, or None."""
    other = twins.get(unpadded(identifier)) if identifier else None
    return other if other is not None and other != identifier else None
