"""What a column holds: the longest text of a String(n) column and the largest number of a NUMERIC(p, s) one, so
that imports and forms refuse a value before the database does (PostgreSQL with an error, SQLite silently)."""
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Numeric, String

# Digits of the largest whole number read from a file or a request (a BIGINT holds 18 whatever they are): no level,
# year, weight or order of ours comes near, and int() of "1e999999999" would build a billion digits.
WHOLE_DIGITS = 18


def max_length(attribute) -> int | None:
    """The length of a String(n) column (None: unbounded text)."""
    kind = attribute.property.columns[0].type
    return kind.length if isinstance(kind, String) else None


def number_limit(attribute) -> Decimal | None:
    """10^(p − s) of a NUMERIC(p, s) column: every value it holds is smaller (None: no limit)."""
    kind = attribute.property.columns[0].type
    if not isinstance(kind, Numeric) or kind.precision is None:
        return None
    return Decimal(10) ** (kind.precision - (kind.scale or 0))


def holds_number(attribute, value: Decimal) -> bool:
    """Whether a NUMERIC(p, s) column holds the value (`within`); any number fits a column without a precision."""
    kind = attribute.property.columns[0].type
    if not isinstance(kind, Numeric) or kind.precision is None:
        return value.is_finite()
    return within(value, kind.precision, kind.scale or 0)


def within(value: Decimal, digits: int, places: int) -> bool:
    """Whether NUMERIC(digits, places) holds the value: finite, and below 10^(digits − places) once rounded half up to
    `places` (9999.995 rounds to 10000.00). Judged by its exponent first: any arithmetic on 1e999999999, abs() and
    rounding included, overflows the decimal context."""
    if not value.is_finite() or (value and value.adjusted() >= digits - places):  # 0E+5 is a zero, held
        return False
    return abs(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)) < Decimal(10) ** (digits - places)


def digits_within(text: str, low: int, high: int) -> int | None:
    """The text as a whole number written in digits (0-9 or another script's), when it lies within [low, high]; None
    otherwise. Read by its length first: int() refuses more than 4,300 digits with an error, and a number written
    with more digits than `high` has is beyond it anyway."""
    if not text.isdecimal() or len(text.lstrip("0")) > len(str(high)):  # zeros in front count for nothing
        return None
    value = int(text)
    return value if low <= value <= high else None
