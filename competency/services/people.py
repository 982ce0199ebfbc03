"""Finding a person from what someone typed: the search behind the person pickers, and the resolver of what a picker
sends. Both look only within a scope, a SELECT of employee ids from services/access.py (the people the user may see,
or may assign courses to …), so a picker never reveals anyone outside it.

The search reads indexes only, whatever the size of the bank, for the usual input: the first characters of a staff
number (the unique index on `staff_no`; also in capitals, e0 finding E0001), of a Chinese name
(`ix_employee_name_zh`) or of an English one (`ix_employee_name_en`; also capitalised, "wang w" finding Wang Wei).
Each is a range [text, text + U+10FFFF) read in the index's order up to a page, which SQLite and PostgreSQL plan as
an index seek, bound parameters included (exact under the binary and C collations; a linguistic collation may
order a few odd strings outside the range). Only when those fill less than a page does it look for the text inside
the names (Chinese text in the Chinese names, other text in the English ones, in any case): a scan of that name's
index alone on SQLite (it holds the status too), which stops as soon as the page is full. That scan grows with the
bank (bench/people_search.py measures it); the seeks do not.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, union_all

from ..errors import DomainError
from ..extensions import db
from ..i18n import localized
from ..models import Employee, EmployeeStatus, OrgUnit
from .access import among

SEARCH_LIMIT = 20
CLOSE = 5  # people an error suggests for a text that is only part of a staff number or name
LONGEST = 120  # characters of a search looked at (the longest name a person may have)
_LAST = "\U0010ffff"  # sorts after every character, so [text, text + _LAST) holds every string starting with text
_ESCAPE = "\\"


def _starting(column, text: str):
    """The condition that a column starts with `text`, as a range an index on the column serves."""
    return and_(column >= text, column < text + _LAST)


def _holding(column, text: str):
    """The condition that a column holds `text`, in any case. Text without letters that have a case (Chinese) is a
    plain LIKE; SQLite's LIKE ignores the case of ASCII letters by itself; elsewhere both sides are lowered (cheaper
    on PostgreSQL than ILIKE, and SQLAlchemy's ilike would lower both sides on SQLite too, doubling the scan)."""
    pattern = "%" + text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_") + "%"
    if text.lower() == text.upper() or db.session.get_bind().dialect.name == "sqlite":
        return column.like(pattern, escape=_ESCAPE)
    return func.lower(column).like(pattern.lower(), escape=_ESCAPE)


def _first(scope, condition, order, limit: int):
    """SELECT of the ids of the first `limit` people by `order` within the scope, who have not left, meeting the
    condition (a subquery, so that it can be one arm of a UNION with a LIMIT of its own)."""
    page = (select(Employee.id).where(among(Employee.id, scope), Employee.status != EmployeeStatus.LEFT, condition)
            .order_by(order).limit(limit).subquery())
    return select(page.c.id)


def _people(ids):
    """SELECT of the people with these ids (a SELECT), with their org unit's names, by staff number."""
    return (select(Employee.id, Employee.staff_no, Employee.name_zh, Employee.name_en,
                   OrgUnit.name_zh.label("unit_zh"), OrgUnit.name_en.label("unit_en"))
            .join(OrgUnit, OrgUnit.id == Employee.org_unit_id).where(Employee.id.in_(ids)).order_by(Employee.staff_no))


def search_people(scope, text: str, limit: int = SEARCH_LIMIT) -> list:
    """Up to `limit` people within the scope who have not left, whose staff number or name starts with the text; to
    fill the page, then those whose name holds it (unless the text has a digit). By staff number within each; rows of
    (id, staff_no, name_zh, name_en, unit_zh, unit_en)."""
    text = " ".join((text or "").split())[:LONGEST]
    if not text:
        return []
    arms = [_first(scope, _starting(Employee.staff_no, t), Employee.staff_no, limit) for t in dict.fromkeys((text, text.upper()))]
    arms.append(_first(scope, _starting(Employee.name_zh, text), Employee.name_zh, limit))
    arms += [_first(scope, _starting(Employee.name_en, t), Employee.name_en, limit) for t in dict.fromkeys((text, text.title()))]
    found = db.session.execute(_people(union_all(*arms)).limit(limit)).all()
    if len(found) < limit and not any(c.isdigit() for c in text):  # no name holds a digit: that was a staff number
        name = Employee.name_en if text.isascii() else Employee.name_zh
        inside = _first(scope, _holding(name, text), name, limit)
        found += db.session.execute(_people(inside).where(Employee.id.not_in([row.id for row in found]))
                                    .limit(limit - len(found))).all()
    return found


def person_text(person) -> str:
    """What a person picker shows of a person, and what its list fills in: the staff number and the name."""
    return f"{person.staff_no} {localized(person)}" if person is not None else ""


class PersonNotFound(DomainError):
    """What was typed names nobody within the scope."""

    def __init__(self, text: str):
        super().__init__(_l("Nobody you may choose here has the staff number or name %(text)s. Type a staff number, or "
                            "part of a name and choose from the list.", text=text))


def _listed(people) -> str:
    """People as an error lists them to choose from: staff number, name and org unit, in the user's language."""
    return "; ".join(f"{p.staff_no} {localized(p)} ({localized(p, 'unit')})" for p in people)


class SeveralPeople(DomainError):
    """What was typed is the name of several people within the scope; `people` lists them (rows as search_people's)."""

    def __init__(self, text: str, people: list):
        self.text, self.people = text, people
        super().__init__(text)

    def __str__(self) -> str:
        return str(_l("Several people are called %(text)s: %(people)s. Choose one from the list, or type the staff "
                      "number.", text=self.text, people=_listed(self.people)))


class NotWhole(SeveralPeople):
    """What was typed is only part of some people's staff numbers or names (what the list would offer): `people`
    lists the first of them."""

    def __str__(self) -> str:
        return str(_l("%(text)s is not the whole staff number or name of anyone you may choose. Did you mean %(people)s? "
                      "Choose from the list, or type the staff number.", text=self.text, people=_listed(self.people)))


class NameMismatch(DomainError):
    """A staff number followed by a name that is not that person's."""

    def __init__(self, person, typed: str):
        super().__init__(_l("Staff number %(no)s belongs to %(name)s, not %(typed)s. Choose from the list, or type only "
                            "the staff number.", no=person.staff_no, name=localized(person), typed=typed))


def resolve_person(scope, text: str) -> Employee | None:
    """The one person within the scope that a picker's text names: a staff number (as typed, or in capitals), a staff
    number and the person's name (what the picker's list fills in), or the exact name of a single person who has not
    left (Chinese, or English as written or capitalised). None for empty text; otherwise SeveralPeople (a name several
    bear), NameMismatch (a staff number with another's name), NotWhole (part of a staff number or name: the first
    few people the list would offer) or PersonNotFound."""
    text = " ".join((text or "").split())
    if not text:
        return None
    number, _, rest = text.partition(" ")
    person = _by_staff_no(scope, number)
    if person is not None and (not rest or rest == person.name_zh or rest.lower() == person.name_en.lower()):
        return person
    named = db.session.execute(_people(_first(scope, or_(Employee.name_zh == text, Employee.name_en.in_({text, text.title()})),
                                              Employee.id, SEARCH_LIMIT))).all()
    if len(named) == 1:
        return db.session.get(Employee, named[0].id)
    if named:
        raise SeveralPeople(text, named)
    if person is not None:
        raise NameMismatch(person, rest)
    close = search_people(scope, text, limit=CLOSE)
    if close:
        raise NotWhole(text, close)
    raise PersonNotFound(text)


def _by_staff_no(scope, number: str) -> Employee | None:
    """The person within the scope with this staff number, as typed or else in capitals."""
    for candidate in dict.fromkeys((number, number.upper())):
        person = db.session.scalar(select(Employee).where(Employee.staff_no == candidate, among(Employee.id, scope)))
        if person is not None:
            return person
    return None
