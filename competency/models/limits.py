"""What a column holds: the longest text of a String(n) column and the largest number of a NUMERIC(p, s) one, so
that imports and forms refuse a value before the database does (PostgreSQL with an error, SQLite silently)."""
from decimal import Decimal

from sqlalchemy import Numeric, String


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
    """Whether a NUMERIC(p, s) column holds the value: finite, and below 10^(p − s) once rounded to s places."""
    kind = attribute.property.columns[0].type
    if not value.is_finite():
        return False
    if not isinstance(kind, Numeric) or kind.precision is None:
        return True
    limit = Decimal(10) ** (kind.precision - (kind.scale or 0))
    # compared before rounding too: rounding a huge number to the scale would overflow the decimal context
    return abs(value) < limit and abs(value.quantize(Decimal(1).scaleb(-(kind.scale or 0)))) < limit
