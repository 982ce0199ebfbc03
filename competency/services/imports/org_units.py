"""Import of org units: `code, parent_code, kind, name_zh, name_en`, upsert by code (columns also by their Chinese
labels, kinds also by theirs: 总行, 一级分行, 二级分行, 支行)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import OrgUnit, OrgUnitKind
from ..unit_of_work import unit_of_work
from .common import ImportResult, Progress, check_new_code, find_cycle, finish, refuse, set_changed, too_long
from .tabular import RowError, read_rows
from .values import choices, choose, twin, zero_twins

COLUMNS = ["code", "parent_code", "kind", "name_zh", "name_en"]
LABELS = {"code": ("机构代码", "机构编号", "机构号"), "parent_code": ("上级机构代码", "上级机构编号", "上级机构"),
          "kind": ("机构类型", "机构层级", "层级"), "name_zh": ("机构名称", "中文名称", "机构中文名称"),
          "name_en": ("英文名称", "机构英文名称")}


def import_org_units(data: bytes, filename: str, *, dry_run=False, actor=None, progress=None) -> ImportResult:
    """Upsert org units by code from a CSV/.xlsx file; ImportFailed (nothing written) on any error."""
    return import_org_unit_rows(read_rows(data, filename, COLUMNS, labels=LABELS), filename, dry_run=dry_run, actor=actor,
                                progress=progress)


def import_org_unit_rows(rows, filename: str, *, dry_run=False, actor=None, progress=None) -> ImportResult:
    """Upsert the rows (of a file, or the API's items) as `import_org_units` does; ImportFailed on any error."""
    steps = Progress(progress, len(rows), stages=1 if dry_run else 2)
    with unit_of_work() as work, db.session.no_autoflush:  # a dry run must not write, not even by autoflush
        existing = {u.code: u for u in db.session.scalars(select(OrgUnit))}
        errors: list[RowError] = []
        seen: dict[str, int] = {}
        kinds, names, twins = {}, choices(OrgUnitKind), zero_twins(existing)
        for done, row in enumerate(rows, start=1):
            steps.at(0, done)
            check_new_code(row, seen, errors, existing, twins)
            errors += [RowError(row.line, column, _l("Required.")) for column in ("name_zh", "name_en") if not row.get(column)]
            errors += too_long(row, {"code": OrgUnit.code, "name_zh": OrgUnit.name_zh, "name_en": OrgUnit.name_en})
            kinds[row.line] = choose(names, row.get("kind"))
            if kinds[row.line] is None:
                errors.append(RowError(row.line, "kind", _l("Unknown kind %(value)s: use head_office, tier1_branch, tier2_branch "
                                                            "or sub_branch (总行, 一级分行, 二级分行, 支行).", value=row.get("kind"))))
        errors += _parent_errors(rows, seen, existing, twins)
        refuse(errors, rows.sheet)
        steps.at(1, 0)
        result = ImportResult("org_units", dry_run=dry_run, notices=rows.notices)
        result = finish(work, _apply(rows, kinds, existing, result), actor, filename)
    steps.finish()
    return result


def unknown_unit(code: str, twins: dict) -> str:
    """The error for an org unit code that does not exist, suggesting one that differs only by leading zeros
    (`twins`: values.zero_twins of the codes known)."""
    other = twin(code, twins)
    if other is not None:
        return _l("Unknown org unit %(code)s: did you mean %(existing)s?", code=code, existing=other)
    return _l("Unknown org unit %(code)s.", code=code)


def _parent_errors(rows, seen: dict, existing: dict, twins: dict) -> list[RowError]:
    """Unknown parents, own parents and parent chains that loop (`twins`: of the stored codes and the file's)."""
    errors = []
    parent_of = {code: (u.parent.code if u.parent else None) for code, u in existing.items()}
    for row in rows:
        code, parent = row.get("code"), row.get("parent_code") or None
        if parent and parent not in seen and parent not in existing:
            errors.append(RowError(row.line, "parent_code", unknown_unit(parent, twins)))
        elif parent and parent == code:
            errors.append(RowError(row.line, "parent_code", _l("An org unit cannot be its own parent.")))
        elif code:
            parent_of[code] = parent
    for code in sorted(find_cycle(parent_of) & set(seen)):
        errors.append(RowError(seen[code], "parent_code", _l("The parent chain of %(code)s loops back to itself.", code=code)))
    return errors


def _fields(unit: OrgUnit) -> dict:
    """What an import sets on a unit, as the audit trail compares it."""
    return {"kind": unit.kind, "name_zh": unit.name_zh, "name_en": unit.name_en, "parent": unit.parent}


def _apply(rows, kinds: dict, existing: dict, result: ImportResult) -> ImportResult:
    """Create and update the units, then set every parent (a parent may come later in the file); count and keep
    each row's changes."""
    units = dict(existing)
    before = {}
    for row in rows:
        code = row.get("code")
        values = {"kind": OrgUnitKind(kinds[row.line]), "name_zh": row.get("name_zh"), "name_en": row.get("name_en")}
        unit = units.get(code)
        if unit is None:
            units[code] = OrgUnit(code=code, **values)
            db.session.add(units[code])
        else:
            before[code] = _fields(unit)
            set_changed(unit, values)
    for row in rows:
        unit, parent_code = units[row.get("code")], row.get("parent_code") or None
        parent = units[parent_code] if parent_code else None
        if unit.parent is not parent:
            unit.parent = parent
    for row in rows:
        code = row.get("code")
        result.track(row.line, code, units[code], before.get(code), _fields(units[code]))
    return result
