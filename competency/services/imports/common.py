"""What every importer shares: the result type with each changed row's changes, finishing a run (audit, or discard
on a dry run), key checks, progress reports."""
import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...extensions import db
from ...models import Employee
from ...models.limits import holds_number, max_length, number_limit
from .. import audit
from .tabular import ImportFailed, RowError
from .values import FIRST_DATE, LAST_DATE, parse_date, twin, unpadded

_TALLIES = {"create": "created", "update": "updated", "unchanged": "unchanged"}


@dataclass
class ImportResult:
    """What an import did (or, on a dry run, would do).

    `actions` lists (line, key, "create" | "update" | "unchanged") per row; `counts` holds the tallies some
    kinds report besides (passed and failed trainings, completed and incomplete assessments); `notices` what the
    reader noted about the file (columns ignored, the sheet read); `rows` holds, on a
    real run, (entity, line, key, created, {field: [before, after]}) of each row that created or changed something,
    which `finish` writes to the audit trail; the entity is a model object or, for rows written in bulk, its
    (table name, id)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    actions: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    rows: list = field(default_factory=list, repr=False)
    notices: list = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.created + self.updated

    def add(self, line: int, key: str, action: str) -> None:
        """Record what happened to one row and count it."""
        self.actions.append((line, key, action))
        tally = _TALLIES[action]
        setattr(self, tally, getattr(self, tally) + 1)

    def track(self, line: int, key: str, entity, before: dict | None, after: dict) -> None:
        """Count a row — created when it had no `before`, updated when a field's value differs, else unchanged —
        and keep what it changed for the audit trail."""
        changes = compare(before, after)
        self.add(line, key, "create" if before is None else "update" if changes else "unchanged")
        if before is None or changes:
            self.log(entity, line, key, changes, created=before is None)

    def log(self, entity, line: int, key: str, changes: dict, created: bool) -> None:
        """Keep a changed row for the audit trail (not on a dry run, which writes nothing)."""
        if not self.dry_run:
            self.rows.append((entity, line, key, created, changes))


_PLAIN = frozenset({str, int, float, bool})


def shown(value):
    """A value as the audit trail shows it: an entity by its code (or a person by staff number), a code by its
    value, a number without trailing zeros, a date as YYYY-MM-DD."""
    if value is None or type(value) in _PLAIN:  # most values: checked first, as every row's every field comes here
        return value
    if isinstance(value, db.Model):
        return getattr(value, "code", None) or getattr(value, "staff_no", None)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, (list, tuple)):
        return [shown(v) for v in value]
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def compare(before: dict | None, after: dict) -> dict:
    """{field: [before, after]} of the fields whose shown values differ; for a created row (no before), every
    field that has a value, with None before."""
    old = {} if before is None else {k: shown(v) for k, v in before.items()}
    new = {k: shown(v) for k, v in after.items()}
    if before is None:
        return {k: [None, v] for k, v in new.items() if v not in (None, "", [])}
    return {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}


def refuse(errors: list[RowError], sheet: str | None = None) -> None:
    """Raise ImportFailed with the errors in file order (the unit of work then writes nothing), each naming the sheet
    the rows came from (a workbook's; None for a text file)."""
    if errors:
        named = [replace(e, sheet=e.sheet or sheet) for e in errors]
        raise ImportFailed(sorted(named, key=lambda e: (e.line, e.column)))


def too_long(row, columns: dict) -> list[RowError]:
    """An error per column whose value is longer than its model column holds ({column: model attribute})."""
    errors = []
    for column, attribute in columns.items():
        limit = max_length(attribute)
        if limit and len(row.get(column) or "") > limit:
            errors.append(RowError(row.line, column, _l("At most %(n)s characters.", n=limit)))
    return errors


def too_large(row, column: str, attribute, value: Decimal | None) -> list[RowError]:
    """An error when a number is beyond what its NUMERIC column holds."""
    if value is None or holds_number(attribute, value):
        return []
    return [RowError(row.line, column, _l("Enter a number smaller than %(limit)s.", limit=f"{number_limit(attribute):,}"))]


def finish(work, result: ImportResult, actor, filename: str, **details) -> ImportResult:
    """End an import inside its unit of work: a dry run is discarded; a real run that changed something is
    audited — a summary event `import.<kind>`, then one `import.<kind>.row` per created or changed row, written
    in bulk — and committed by the unit of work."""
    if result.dry_run:
        work.discard()
        return result
    record_summary(result, actor, filename, **details)
    record_rows(result.kind, actor, filename, result.rows)
    return result


def record_summary(result: ImportResult, actor, filename: str, **details) -> None:
    """The summary event `import.<kind>` of a real run that changed something, written at once so that it comes
    before the row events."""
    if result.changed:
        audit.record(f"import.{result.kind}", "import", None, actor=actor, file=filename, created=result.created,
                     updated=result.updated, unchanged=result.unchanged, **details)
        db.session.flush()  # the summary goes first, and created rows get their ids


def record_rows(kind: str, actor, filename: str, rows) -> None:
    """One `import.<kind>.row` event per created or changed row, (entity, line, key, created, changes) each, in bulk.
    The changes hold values as `shown` leaves them, JSON-safe already."""
    if rows:
        db.session.flush()  # created model objects get their ids
        audit.record_many(f"import.{kind}.row", actor, (
            (*_reference(entity), {"file": filename, "line": line, "key": str(key), "created": created, "changes": changes})
            for entity, line, key, created, changes in rows), json_safe=True)


def _reference(entity) -> tuple[str, int]:
    """(table name, id) of a model object, or the pair itself."""
    return entity if isinstance(entity, tuple) else (entity.__tablename__, entity.id)


# Keys looked up by index with IN (…), at most: an API batch's keys (up to 5,000 items and as many supervisors) are
# looked up; more — a file of a whole bank — and the table is read once instead, which then costs less than the
# lookups (and SQLite takes at most 32,766 values per statement).
LOOKUP_IN = 10_000


def keys_to_read(values) -> set | None:
    """The distinct, non-empty values to look up by index; None when there are more than LOOKUP_IN (read every row)."""
    keys = {v for v in values if v}
    return None if len(keys) > LOOKUP_IN else keys


def where_among(query, column, keys: set | None):
    """The query narrowed to the rows whose column holds one of the keys (None: every row)."""
    return query if keys is None else query.where(column.in_(sorted(keys)))


def people_by_staff_no(staff_nos, *columns) -> dict:
    """{staff number: row of (Employee.id, Employee.staff_no, *columns)} of the staff numbers that exist (and, for more
    than LOOKUP_IN of them, everyone's), in one query without loading model objects."""
    keys = keys_to_read(staff_nos)
    if keys == set():
        return {}
    query = where_among(select(Employee.id, Employee.staff_no, *columns), Employee.staff_no, keys)
    return {row.staff_no: row for row in db.session.execute(query)}


def staff_number_twins(staff_nos) -> dict:
    """{staff number without leading zeros: staff number} of the people whose number differs from one of these only
    by leading zeros (one query, made only for numbers that were not found; for more than LOOKUP_IN, everyone's)."""
    keys = keys_to_read(unpadded(s) for s in staff_nos if s)
    if keys == set():
        return {}
    query = select(Employee.staff_no)
    if keys is not None:
        wanted = sorted(keys)
        query = query.where(func.ltrim(Employee.staff_no, "0").in_(wanted) | Employee.staff_no.in_(wanted))
    return {unpadded(no): no for no in db.session.scalars(query)}


def unknown_people(missing) -> list[RowError]:
    """An error per (row, staff number) nobody has, each suggesting a number that differs only by leading zeros."""
    twins = staff_number_twins(no for _row, no in missing)
    return [RowError(row.line, "staff_no", unknown_person(no, twins)) for row, no in missing]


def unknown_person(staff_no: str, twins: dict, supervisor: bool = False):
    """The error for a staff number nobody has, suggesting the one that differs from it only by leading zeros."""
    other = twin(staff_no, twins)
    if other is not None:
        return _l("Unknown staff number %(no)s: did you mean %(existing)s?", no=staff_no, existing=other)
    return _l("Unknown supervisor %(no)s.", no=staff_no) if supervisor else _l("Unknown staff number %(no)s.", no=staff_no)


def date_error(value: str):
    """The error for a value that is not a date, with the forms a date may take, or for a date out of range."""
    try:
        parse_date(value, bounded=False)
    except (ValueError, OverflowError):
        return _l("Not a date: %(value)s. Write it as YYYY-MM-DD (2024-03-01, 2024/3/1 and 2024年3月1日 also work).", value=value)
    return _l("The date %(value)s is out of range: use a date from %(first)s to %(last)s.", value=value,
              first=FIRST_DATE.isoformat(), last=LAST_DATE.isoformat())


def set_changed(obj, values: dict) -> bool:
    """Assign the values that differ; return whether any did."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def find_cycle(parent_of: dict) -> set:
    """The keys that sit on a cycle of the parent mapping."""
    on_cycle: set = set()
    done: set = set()
    for start in parent_of:
        path, seen, node = [], set(), start
        while node is not None and node not in done and node not in seen:
            seen.add(node)
            path.append(node)
            node = parent_of.get(node)
        if node is not None and node in seen:
            on_cycle.update(path[path.index(node):])
        done.update(path)
    return on_cycle


def check_code(row, seen: dict, errors: list, column: str = "code") -> str:
    """The row's code: required and unique in the file (remembers the first line of each code in `seen`)."""
    code = row.get(column)
    if not code:
        errors.append(RowError(row.line, column, _l("Required.")))
    elif code in seen:
        errors.append(RowError(row.line, column, _l("Duplicate code %(code)s (also on line %(line)s).", code=code, line=seen[code])))
    else:
        seen[code] = row.line
    return code


def check_new_code(row, seen: dict, errors: list, existing, twins: dict) -> str:
    """The row's code as `check_code` checks it, and not a new code that differs from another (stored, or earlier in
    the file) only by leading zeros: a code typed as a number in a spreadsheet loses them. `twins` is
    values.zero_twins of the stored codes, and learns the file's."""
    code = check_code(row, seen, errors)
    other = twin(code, twins) if code and code not in existing else None
    if other is not None:
        errors.append(RowError(row.line, "code", _l("The new code %(code)s differs from %(existing)s only by leading zeros: "
                                                    "write %(existing)s.", code=code, existing=other)))
    elif code:
        twins.setdefault(unpadded(code), code)
    return code


# --- progress ---------------------------------------------------------------------------------------

# A run reports its progress at most about this many times (a background job's page polls it).
PROGRESS_REPORTS = 200


def estimated_rows(data: bytes, filename: str) -> int:
    """The data rows a file holds, estimated before reading it: a CSV's line breaks less the header, an .xlsx
    sheet's declared size (a file may declare it wrongly: this is only for progress)."""
    if filename.lower().endswith(".xlsx"):
        from .. import safe_files

        try:
            with safe_files.open_xlsx(data) as book:
                return max((book.worksheets[0].max_row or 1) - 1, 1) if book.worksheets else 1
        except ImportFailed:  # refused when it is read, with its errors
            return 1
    return max(data.count(b"\n") - (1 if data.endswith(b"\n") else 0), 1)


class Progress:
    """An import's progress told to an optional callback `progress(done, total)`, with a total fixed at the start:
    the file's estimated rows once per stage (checking, then writing on a real run). Reports never go back nor
    past the total, come at most about PROGRESS_REPORTS times, and the last one is done == total."""

    def __init__(self, callback: Callable[[int, int], None] | None, rows: int, stages: int = 1):
        self.callback, self.rows = callback, max(rows, 1)
        self.total = self.rows * stages
        self.step = max(self.total // PROGRESS_REPORTS, 1)
        self.done = self.told = 0
        if callback is not None:
            callback(0, self.total)

    def at(self, stage: int, done: int) -> None:
        """`done` rows (or items worth as much) of stage `stage` (0 first) are through."""
        if self.callback is None:
            return
        self.done = min(max(self.done, stage * self.rows + min(done, self.rows)), self.total)
        if self.done - self.told >= self.step:
            self.told = self.done
            self.callback(self.done, self.total)

    def finish(self) -> None:
        """Everything is through: report done == total (once)."""
        if self.callback is not None and self.told != self.total:
            self.done = self.told = self.total
            self.callback(self.total, self.total)
