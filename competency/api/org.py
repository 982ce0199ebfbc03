"""Org units and employees: lists with filters and cursor pagination, one by its key, upsert by key (with ETag and
If-Match), bulk upsert all or nothing — through the imports' rules and the access module's scopes."""
from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..errors import FieldError, NotFound
from ..models import OrgUnit, Position
from ..services import access, upserts
from ..services import org as org_service
from ..services.background import import_options
from ..services.imports import ImportFailed
from ..services.imports.employees import import_employee_rows
from ..services.imports.org_units import import_org_unit_rows
from ..services.imports.tabular import items_as_rows
from . import blueprint, paging, schemas
from .auth import current_user, requires, source
from .common import ETAG, IF_MATCH, bulk_result, responds
from .problems import problem, row_errors

bp = blueprint("organisation", "Org units and employees (scopes `org:read`, `org:write`).")


@bp.route("/org-units")
@requires("org:read", permission="org.browse")
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.OrgUnitPage)
@responds(bp)
def list_org_units(args):
    """The org units, by code."""
    parent = aliased(OrgUnit)
    query = (select(OrgUnit.code, parent.code.label("parent_code"), OrgUnit.kind, OrgUnit.name_zh, OrgUnit.name_en)
             .outerjoin(parent, parent.id == OrgUnit.parent_id).order_by(OrgUnit.code))
    rows, cursor = paging.page(query, OrgUnit.code, args, scalars=False, key_of=lambda r: r.code)
    return {"items": [{**r._asdict(), "kind": r.kind.value} for r in rows], "next": cursor}


@bp.route("/org-units/<code>")
@requires("org:read", permission="org.browse")
@bp.response(200, schemas.OrgUnitOut, headers=ETAG)
@responds(bp, 404)
def get_org_unit(code: str):
    """One org unit by code."""
    record = upserts.org_unit_record(code)
    if record is None:
        raise NotFound()
    return record, 200, {"ETag": upserts.tag(record)}


@bp.route("/org-units/<code>", methods=["PUT"])
@requires("org:write", permission="imports.run")
@bp.arguments(schemas.OrgUnitFields)
@bp.response(200, schemas.OrgUnitOut, headers=ETAG, description="Updated (or unchanged).")
@bp.alt_response(201, schema=schemas.OrgUnitOut, headers=ETAG, description="Created.", success=True)
@bp.doc(parameters=[IF_MATCH])
@responds(bp, 400, 412, 413, 415)
def put_org_unit(values, code: str):
    """Create or update one org unit by code (the org unit import's rules)."""
    return _upserted(lambda: upserts.upsert_org_unit(code, values, request.headers.get("If-Match"), source(), actor=current_user()))


@bp.route("/org-units/bulk", methods=["POST"])
@requires("org:write", permission="imports.run")
@bp.arguments(schemas.OrgUnitBulk)
@bp.response(200, schemas.BulkResult)
@responds(bp, 400, 413, 415)
def bulk_org_units(body):
    """Upsert up to 5,000 org units by code, all or nothing: any item with an error, and nothing is written."""
    return bulk_result(import_org_unit_rows(items_as_rows(body["items"]), source(), actor=current_user()))


@bp.route("/employees")
@requires("org:read")
@bp.arguments(schemas.EmployeeArgs, location="query")
@bp.response(200, schemas.EmployeePage)
@responds(bp)
def list_employees(args):
    """The employees the token's account may see (the directory's scope), filtered, by staff number."""
    filters = org_service.EmployeeFilters(q=args.get("q") or "", grade=args.get("grade"), status=args.get("status"),
                                          org_unit_id=_id_of(OrgUnit, args, "org_unit"), position_id=_id_of(Position, args, "position"))
    query = org_service.employee_query(access.visible_employee_ids(current_user()), filters).options(*upserts.EMPLOYEE_LOADS)
    people, cursor = paging.page(query, org_service.Employee.staff_no, args)
    return {"items": [upserts.employee_record(p) for p in people], "next": cursor}


def _id_of(model, args: dict, name: str) -> int | None:
    code = args.get(name)
    if code is None:
        return None
    found = org_service.db.session.scalar(select(model.id).where(model.code == code))
    if found is None and access.can(current_user(), "org.browse"):
        raise FieldError(name, _("Unknown code %(code)s.", code=code))
    # for those who may not browse the org tree, an unknown code finds no one, as a known one outside their scope
    # does: the answer does not tell which codes exist
    return -1 if found is None else found


@bp.route("/employees/<staff_no>")
@requires("org:read")
@bp.response(200, schemas.EmployeeOut, headers=ETAG)
@responds(bp, 404)
def get_employee(staff_no: str):
    """One employee by staff number (404 for people outside the account's scope)."""
    person = org_service.employee_by_staff_no(staff_no)
    if person is None or not access.can_see_employee(current_user(), person.id):
        raise NotFound()
    return upserts.employee_record(person), 200, {"ETag": upserts.employee_tag(person)}


@bp.route("/employees/<staff_no>", methods=["PUT"])
@requires("org:write", permission="imports.run")
@bp.arguments(schemas.EmployeeFields)
@bp.response(200, schemas.EmployeeOut, headers=ETAG, description="Updated (or unchanged).")
@bp.alt_response(201, schema=schemas.EmployeeOut, headers=ETAG, description="Created.", success=True)
@bp.doc(parameters=[IF_MATCH])
@responds(bp, 400, 412, 413, 415)
def put_employee(values, staff_no: str):
    """Create or update one employee by staff number (the employee import's rules; accounts and roles: admin only)."""
    return _upserted(lambda: upserts.upsert_employee(staff_no, values, request.headers.get("If-Match"), source(),
                                                     actor=current_user(), **import_options("employees")))


@bp.route("/employees/bulk", methods=["POST"])
@requires("org:write", permission="imports.run")
@bp.arguments(schemas.EmployeeBulk)
@bp.response(200, schemas.BulkResult)
@responds(bp, 400, 413, 415)
def bulk_employees(body):
    """Upsert up to 5,000 employees by staff number, all or nothing, with the import file's row errors (a nightly
    sync sends its people in batches)."""
    rows = items_as_rows([upserts.employee_row(item.pop("staff_no"), item) for item in body["items"]])
    return bulk_result(import_employee_rows(rows, source(), actor=current_user(), **import_options("employees")))


def _upserted(write):
    """Run a single-record upsert: 201 when created, else 200, with the record's ETag; 412 when If-Match no longer
    holds; 422 with the fields at fault."""
    try:
        done = write()
    except upserts.PreconditionFailed:
        return problem(412, _("The record changed since you read it (or does not exist): read it again, then send the change."))
    except ImportFailed as failure:
        return problem(422, _("Nothing was written: correct the fields with errors."), row_errors(failure, collection=None))
    return done.record, 201 if done.created else 200, {"ETag": done.tag}
