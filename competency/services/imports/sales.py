"""Import of annual sales: `staff_no, year, amount` (or 工号, 年度, 年销量 …), upsert by (person, year); amounts as
1,234.5, ¥1,234.50 or ￥987654.32."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import AnnualSales
from ..unit_of_work import unit_of_work
from .common import ImportResult, Progress, finish, people_by_staff_no, refuse, too_large, unknown_people
from .headers import STAFF_NO
from .tabular import RowError, read_rows
from .values import parse_number, parse_whole

COLUMNS = ["staff_no", "year", "amount"]
LABELS = {"staff_no": STAFF_NO, "year": ("年度", "年份", "考核年度"),
          "amount": ("年销量", "销量", "年度销量", "销售额", "年度销售额", "销售金额", "业绩", "金额")}


def _amount(text: str) -> Decimal | None:
    amount = parse_number(text)
    return amount if amount is not None and amount >= 0 else None


def _year(text: str) -> str:
    """The year as four digits ("2025", "2025.0" and "2025年" are 2025), or the text as given when it is not one."""
    year = parse_whole(text.removesuffix("年"))
    return str(year) if year is not None else text


def import_sales(data: bytes, filename: str, *, dry_run=False, actor=None, progress=None) -> ImportResult:
    """Annual sales per person and year, upserted; ImportFailed (nothing written) on any bad row."""
    rows = read_rows(data, filename, COLUMNS, labels=LABELS, totals="staff_no")
    steps = Progress(progress, len(rows), stages=1 if dry_run else 2)
    with unit_of_work() as work, db.session.no_autoflush:  # a dry run must not write, not even by autoflush
        people = people_by_staff_no(r.get("staff_no") for r in rows)
        errors, seen, parsed, missing = [], {}, [], []
        for done, row in enumerate(rows, start=1):
            steps.at(0, done)
            person, year, amount = people.get(row.get("staff_no")), _year(row.get("year")), _amount(row.get("amount"))
            if person is None:
                missing.append((row, row.get("staff_no")))
            if not year.isdecimal() or not 2000 <= int(year) <= 2100:
                errors.append(RowError(row.line, "year", _l("The year must be a four-digit year from 2000 to 2100: %(value)s.",
                                                            value=row.get("year"))))
            if amount is None:
                errors.append(RowError(row.line, "amount", _l("The amount must be a number of at least 0, like 1234.5 or "
                                                              "¥1,234.50: %(value)s.", value=row.get("amount"))))
            errors += too_large(row, "amount", AnnualSales.amount, amount)
            key = (row.get("staff_no"), year)
            if key in seen:
                errors.append(RowError(row.line, "year", _l(
                    "The same person and year appear twice (also on line %(line)s).", line=seen[key])))
            seen.setdefault(key, row.line)
            parsed.append((row, person, year, amount))
        errors += unknown_people(missing)
        refuse(errors, rows.sheet)
        steps.at(1, 0)
        result = ImportResult("sales", dry_run=dry_run, notices=rows.notices)
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
