"""Import of annual sales: `staff_no, year, amount`, upsert by (person, year)."""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import AnnualSales
from ..unit_of_work import unit_of_work
from .common import ImportResult, Progress, finish, people_by_staff_no, refuse, too_large
from .tabular import RowError, read_rows

COLUMNS = ["staff_no", "year", "amount"]


def _amount(text: str) -> Decimal | None:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def import_sales(data: bytes, filename: str, *, dry_run=False, actor=None, progress=None) -> ImportResult:
    """Annual sales per person and year, upserted; ImportFailed (nothing written) on any bad row."""
    rows = read_rows(data, filename, COLUMNS)
    steps = Progress(progress, len(rows), stages=1 if dry_run else 2)
    with unit_of_work() as work, db.session.no_autoflush:  # a dry run must not write, not even by autoflush
        people = people_by_staff_no(r.get("staff_no") for r in rows)
        errors, seen, parsed = [], {}, []
        for done, row in enumerate(rows, start=1):
            steps.at(0, done)
            person, year, amount = people.get(row.get("staff_no")), row.get("year"), _amount(row.get("amount"))
            if person is None:
                errors.append(RowError(row.line, "staff_no", _l("Unknown staff number %(no)s.", no=row.get("staff_no"))))
            if not year.isdecimal() or not 2000 <= int(year) <= 2100:
                errors.append(RowError(row.line, "year", _l("The year must be a four-digit year.")))
            if amount is None:
                errors.append(RowError(row.line, "amount", _l("The amount must be a number of at least 0.")))
            errors += too_large(row, "amount", AnnualSales.amount, amount)
            key = (row.get("staff_no"), year)
            if key in seen:
                errors.append(RowError(row.line, "year", _l(
                    "The same person and year appear twice (also on line %(line)s).", line=seen[key])))
            seen.setdefault(key, row.line)
            parsed.append((row, person, year, amount))
        refuse(errors)
        steps.at(1, 0)
        result = ImportResult("sales", dry_run=dry_run)
        existing = {(s.employee_id, s.year): s for s in db.session.scalars(
            select(AnnualSales).where(AnnualSales.year.in_({int(year) for _, _, year, _ in parsed})))}
        for row, person, year, amount in parsed:
            key, item = f"{person.staff_no} {year}", existing.get((person.id, int(year)))
            before = None if item is None else {"amount": item.amount}
            if item is None:
                item = AnnualSales(employee_id=person.id, year=int(year), amount=amount)
                db.session.add(item)
            elif item.amount != amount:
                item.amount = amount
            result.track(row.line, key, item, before, {"amount": amount})
        result = finish(work, result, actor, filename)
    steps.finish()
    return result
