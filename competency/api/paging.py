"""Cursor pagination of the API's lists: ordered by a unique key, each page asks for the rows after the last one
it showed (`after`), so that a page is as fast at the millionth row as at the first and rows added meanwhile are
neither skipped nor repeated."""
import base64
import json

from flask_babel import lazy_gettext as _l

from ..errors import FieldError
from ..extensions import db

# The largest key a cursor may name (a BIGINT's): beyond it no row has it, and the database could not compare it.
MAX_KEY = 2**63 - 1
NOT_A_CURSOR = _l("Not a cursor of this list: pass the `next` value of the previous page.")


def _encode(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _decode(cursor: str):
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        value = None
    if not isinstance(value, (str, int)) or isinstance(value, bool) or (isinstance(value, int) and not 0 <= value <= MAX_KEY):
        raise FieldError("after", NOT_A_CURSOR)
    return value


def page(query, key, args: dict, *, scalars: bool = True, key_of=None) -> tuple[list, str | None]:
    """(the page's rows, the next page's cursor or None) of a SELECT ordered by `key` (a unique column);
    `key_of(row)` gives a row's key (default: the attribute of the key's name)."""
    if args.get("after"):
        after = _decode(args["after"])
        if not isinstance(after, key.type.python_type):
            raise FieldError("after", NOT_A_CURSOR)
        query = query.where(key > after)
    limit = args["limit"]
    result = db.session.execute(query.limit(limit + 1))
    rows = (result.unique().scalars() if scalars else result).all()
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = key_of(rows[-1]) if key_of else getattr(rows[-1], key.key)
    return rows, _encode(last)
