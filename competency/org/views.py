"""Org tree, employee list, employee detail and edit."""
from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import DomainError
from ..extensions import db
from ..formutil import edit_form
from ..i18n import localized
from ..models import EmployeeStatus, Grade
from ..security import permission_required
from ..services import access, audit, people
from ..services import org as org_service
from . import bp
from .forms import EditEmployeeForm, EmployeeFilterForm, PeopleSearchForm


@bp.route("/org")
@permission_required("org.browse")
def tree():
    """The org unit tree with each unit's headcount."""
    return render_template("org/tree.html", units=org_service.org_tree())


@bp.route("/employees")
@login_required
def employees():
    """The employees the user may see, searchable, filtered and paginated."""
    form = EmployeeFilterForm(request.args)
    form.fill_choices(org_service.positions())
    filters = org_service.EmployeeFilters()
    if form.validate():
        filters = org_service.EmployeeFilters(
            q=form.q.data or "",
            org_unit_id=int(form.org_unit.data) if form.org_unit.data else None,
            position_id=int(form.position.data) if form.position.data else None,
            grade=form.grade.data or None,
            status=form.status.data or None,
        )
    page = db.paginate(
        org_service.employee_query(access.visible_employee_ids(current_user), filters),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template("org/employees.html", form=form, page=page)


@bp.route("/people/search")
@login_required
def people_search():
    """What a person picker offers as its user types: up to 20 people of the picker's scope (`scope`, within those
    the user may see) matching `q` by staff number or name, as JSON [{staff_no, name, org_unit, name_zh, name_en}]
    (`name` in the user's language; both names, so that the list can show the one the user is typing)."""
    form = PeopleSearchForm(request.args)
    if not form.validate():
        return jsonify([])
    found = people.search_people(access.picker_scope(current_user, form.scope.data or ""), form.q.data or "")
    return jsonify([{"staff_no": p.staff_no, "name": localized(p), "org_unit": localized(p, "unit"), "name_zh": p.name_zh,
                     "name_en": p.name_en} for p in found])


@bp.route("/employees/<int:employee_id>")
@login_required
def employee(employee_id: int):
    """One employee's profile and grade history (404 for people the user may not see)."""
    person = access.visible_employee_or_404(current_user, employee_id)
    private = access.can_see_private(current_user, person.id)
    if private:  # the grade history is a personal record
        audit.record_view(current_user, "profile", person.id)
    return render_template("org/employee.html", person=person, private=private)


@bp.route("/employees/<int:employee_id>/edit", methods=["GET", "POST"])
@permission_required("employees.edit")
def edit_employee(employee_id: int):
    """Edit an employee's record (hr and admin)."""
    person = access.visible_employee_or_404(current_user, employee_id)
    form = edit_form(EditEmployeeForm, person)
    form.fill_choices(org_service.positions())
    if request.method == "GET":
        form.org_unit.data, form.position.data = person.org_unit_id, person.position_id
        form.grade.data, form.status.data = person.grade.value, person.status.value
        form.supervisor.show(person.supervisor)
    if form.validate_on_submit():
        values = {
            "name_zh": form.name_zh.data, "name_en": form.name_en.data,
            "org_unit_id": form.org_unit.data, "position_id": form.position.data,
            "grade": Grade(form.grade.data), "status": EmployeeStatus(form.status.data),
            "hire_date": form.hire_date.data, "probation_end": form.probation_end.data,
            "supervisor_staff_no": form.supervisor.person.staff_no if form.supervisor.person else None,
        }
        try:
            org_service.update_employee(person, values, actor=current_user)
        except DomainError as error:
            flash(str(error), "error")
            return render_template("org/edit_employee.html", form=form, person=person)
        flash(_("Saved."), "success")
        return redirect(url_for("org.employee", employee_id=person.id))
    return render_template("org/edit_employee.html", form=form, person=person)
