"""What every importer shares: the result type, finishing a run (audit, or discard on a dry run), key checks."""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from .. import audit
from .tabular import ImportFailed, RowError

_TALLIES = {"create": "created", "update": "updated", "unchanged": "unchanged"}


@dataclass
class ImportResult:
    """What an import did (or, on a dry run, would do).

    `actions` lists (line, key, "create" | "update" | "unchanged") per row; `counts` holds the tallies some
    kinds report besides (passed and failed trainings, completed and incomplete assessments)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    actions: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.created + self.updated

    def add(self, line: int, key: str, action: str) -> None:
        """Record what happened to one row and count it."""
        self.actions.append((line, key, action))
        tally = _TALLIES[action]
        setattr(self, tally, getattr(self, tally) + 1)

    def recount(self) -> None:
        """Recount the tallies from the actions (after rows were upgraded from unchanged to update)."""
        for action, tally in _TALLIES.items():
            setattr(self, tally, sum(1 for a in self.actions if a[2] == action))


def refuse(errors: list[RowError]) -> None:
    """Raise ImportFailed with the errors in file order (the unit of work then writes nothing)."""
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: (e.line, e.column)))


def finish(work, result: ImportResult, actor, filename: str, **details) -> ImportResult:
    """End an import inside its unit of work: a dry run is discarded; a real run that changed something is
    audited (and committed by the unit of work)."""
    if result.dry_run:
        work.discard()
        return result
    if result.changed:
        audit.record(f"import.{result.kind}", "import", None, actor=actor, file=filename, created=result.created,
                     updated=result.updated, unchanged=result.unchanged, **details)
    return result


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
