"""Import of annual sales: `staff_no, year, amount` (or 工号, 年度, 年销量 …), upsert by (person, year); amounts as
1,234.5, ¥1,234.50 or ￥987654.32. Set-based: the people and their stored figures are looked up by index (a file of more
than LOOKUP_IN people reads them at once), new figures and changed ones written in a statement each."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update

from ...extensions import db
from ...models import AnnualSales
from ...models.limits import digits_within
from .. import bulk
from ..unit_of_work import unit_of_work
from .common import (
    ImportResult,
    Progress,
    finish,
    keys_to_read,
    people_by_staff_no,
    refuse,
    too_large,
    unknown_people,
    where_among,
)
from .headers import STAFF_NO
from .tabular import RowError, read_rows
from .values import at_scale, parse_number, parse_whole, step_of

COLUMNS = ["staff_no", "year", "amount"]
LABELS = {"staff_no": STAFF_NO, "year": ("年度", "年份", "考核年度"),
          "amount": ("年销量", "销量", "年度销量", "销售额", "年度销售额", "销售金额", "业绩", "金额")}


CENT = step_of(AnnualSales.amount)


def _amount(text: str) -> Decimal | None:
    amount = parse_number(text)
    return at_scale(amount, CENT) if amount is not None and amount >= 0 else None


def _year(text: str) -> str:
    """The year as four digits ("2025", "2025.0" and "2025年" are 2025), or the text as given when it is not one."""
    year = parse_whole(text.removesuffix("年"))
    return str(year) if year is not None else text


def _stored(parsed: list) -> dict:
    """{(employee id, year): stored row} of the sales figures the rows name (one query, by the person's index)."""
    years = {int(year) for _row, _person, year, _amount in parsed}
    keys = keys_to_read(person.id for _row, person, *_rest in parsed)
    if keys == set():
        return {}
    query = where_among(select(AnnualSales.id, AnnualSales.employee_id, AnnualSales.year, AnnualSales.amount)
                        .where(AnnualSales.year.in_(years)), AnnualSales.employee_id, keys)
    return {(r.employee_id, r.year): r for r in db.session.execute(query)}


def import_sales(data: bytes, filename: str, *, dry_run=False, actor=None, progress=None) -> ImportResult:
    """Annual sales per person and year, upserted; ImportFailed (nothing written) on any bad row."""
    return import_sales_rows(read_rows(data, filename, COLUMNS, labels=LABELS, totals="staff_no"), filename, dry_run=dry_run,
                             actor=actor, progress=progress)


def import_sales_rows(rows, filename: str, *, dry_run=False, actor=None, progress=None) -> ImportResult:
    """Upsert the rows (of a file, or the API's items) as `import_sales` does; ImportFailed on any error."""
    steps = Progress(progress, len(rows), stages=1 if dry_run else 2)
    with unit_of_work() as work, db.session.no_autoflush:  # a dry run must not write, not even by autoflush
        people = people_by_staff_no(r.get("staff_no") for r in rows)
        errors, seen, parsed, missing = [], {}, [], []
        for done, row in enumerate(rows, start=1):
            steps.at(0, done)
            person, year, amount = people.get(row.get("staff_no")), _year(row.get("year")), _amount(row.get("amount"))
            if person is None:
                missing.append((row, row.get("staff_no")))
            if digits_within(year, 2000, 2100) is None:
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
        stored = _stored(parsed)
        plan = [(row, f"{person.staff_no} {year}", person.id, int(year), amount, stored.get((person.id, int(year))))
                for row, person, year, amount in parsed]
        new = [item for item in plan if item[-1] is None]
        ids = [None] * len(new) if dry_run else bulk.insert_returning_ids(AnnualSales.__table__, (
            {"employee_id": person_id, "year": year, "amount": amount} for _row, _key, person_id, year, amount, _old in new))
        new_ids = {id(item): sales_id for item, sales_id in zip(new, ids, strict=True)}
        if not dry_run:
            table = AnnualSales.__table__
            bulk.execute_many(update(table).where(table.c.id == bindparam("sales_id")), [
                {"sales_id": old.id, "amount": amount} for *_item, amount, old in plan if old is not None and old.amount != amount])
        for item in plan:
            row, key, *_item, amount, old = item
            entity = ("annual_sales", new_ids[id(item)] if old is None else old.id)
            result.track(row.line, key, entity, None if old is None else {"amount": old.amount}, {"amount": amount})
        result = finish(work, result, actor, filename)
    steps.finish()
    return result
