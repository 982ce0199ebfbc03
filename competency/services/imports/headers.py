"""Header names: each import column by its code (`staff_no`), by a Chinese label (工号) or by both (「工号(staff_no)」,
「工号（staff_no）」), whatever the capitalisation, the spacing and a required-field star; each import kind has its
table of labels (documented in docs/domain.md)."""
import re
import unicodedata

# Labels shared by several kinds.
STAFF_NO = ("工号", "员工编号", "员工号", "职工号", "人员编号")
_BILINGUAL = re.compile(r"^(.+?)_?\((.+)\)$")


def normalise(text) -> str:
    """The text as headers are compared: NFKC (full-width brackets and letters become ASCII), case-folded, without
    surrounding spaces and stars, runs of spaces and hyphens as one underscore."""
    text = unicodedata.normalize("NFKC", str(text)).strip().strip("*").strip()
    return re.sub(r"[\s\-]+", "_", text.casefold())


def lookup_of(columns, labels: dict) -> dict:
    """{normalised name: column code} of each column's code and labels."""
    lookup = {}
    for column in columns:
        for name in (column, *labels.get(column, ())):
            lookup.setdefault(normalise(name), column)
    return lookup


def column_of(cell, lookup: dict) -> str | None:
    """The column code a header cell names, or None."""
    if cell is None:
        return None
    text = normalise(cell)
    if not text:
        return None
    if text in lookup:
        return lookup[text]
    match = _BILINGUAL.match(text)
    if match:
        for part in match.groups():
            part = part.strip("_")
            if part in lookup:
                return lookup[part]
    return None


def shown(column: str, labels: dict) -> str:
    """A column as messages and templates name it: 工号(staff_no), or the code alone when it has no label."""
    names = labels.get(column)
    return f"{names[0]}({column})" if names else column
