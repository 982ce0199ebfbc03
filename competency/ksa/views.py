"""The competency model editor (hr, admin) and "my competency model" (any employee)."""
from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import DomainError, NotFound
from ..extensions import db
from ..formutil import edit_form, options
from ..i18n import localized
from ..models import LEVELS, Competency, DutyArea, Grade, ModelVersion
from ..security import permission_required
from ..services import audit
from ..services.imports import ImportFailed
from ..services.ksa import editor, importer, versions
from ..services.ksa import export as model_export
from . import bp
from .forms import ActionForm, CompetencyForm, DutyAreaForm, ImportModelForm, VersionNameForm, targets_form


def _version(version_id: int) -> ModelVersion:
    return db.get_or_404(ModelVersion, version_id)


def _part(model, part_id: int, version: ModelVersion):
    part = db.get_or_404(model, part_id)
    if part.version_id != version.id:
        raise NotFound()
    return part


def _back(version: ModelVersion, anchor: str = ""):
    return redirect(url_for("ksa.version", version_id=version.id) + (f"#{anchor}" if anchor else ""))


@bp.route("/models")
@permission_required("models.edit")
def index():
    """Positions with their model versions, and the import form."""
    return render_template("ksa/index.html", positions=versions.versions_by_position(), import_form=ImportModelForm(),
                           action=ActionForm())


@bp.route("/models/<int:version_id>")
@permission_required("models.edit")
def version(version_id: int):
    """One version: competencies by category and cluster, descriptor matrix, targets, duty areas."""
    item = _version(version_id)
    problems = versions.publish_problems(item) if item.is_draft else []
    return render_template("ksa/version.html", version=item, groups=versions.grouped(item), problems=problems,
                           action=ActionForm(), levels=LEVELS, grades=list(Grade), scale=versions.SCALE,
                           name_form=VersionNameForm(obj=item))


@bp.route("/models/<int:version_id>/<any(publish,retire,new_version,delete):operation>", methods=["POST"])
@permission_required("models.edit")
def operate(version_id: int, operation: str):
    """Publish, retire, copy into a new draft, or delete a draft."""
    item = _version(version_id)
    if not ActionForm().validate_on_submit():
        raise DomainError(_("The request could not be understood."))
    try:
        if operation == "publish":
            versions.publish(item, actor=current_user)
            flash(_("Version %(n)s is published.", n=item.number), "success")
        elif operation == "retire":
            versions.retire(item, actor=current_user)
            flash(_("Version %(n)s is retired.", n=item.number), "success")
        elif operation == "new_version":
            item = versions.new_version(item, actor=current_user)
            flash(_("Draft version %(n)s created: edit it, then publish.", n=item.number), "success")
        else:
            versions.delete_draft(item, actor=current_user)
            flash(_("The draft was deleted."), "success")
            return redirect(url_for("ksa.index"))
    except DomainError as error:
        flash(str(error), "error")
    return _back(item)


@bp.route("/models/<int:version_id>/name", methods=["POST"])
@permission_required("models.edit")
def rename(version_id: int):
    """Rename a draft."""
    item = _version(version_id)
    form = VersionNameForm()
    if form.validate_on_submit():
        try:
            editor.rename_version(item, form.name_zh.data, form.name_en.data, actor=current_user)
        except DomainError as error:
            flash(str(error), "error")
    return _back(item)


def _fill_competency_form(form: CompetencyForm, version: ModelVersion, comp: Competency | None) -> None:
    form.cluster.choices = options((c.id, f"{c.category.value} · {localized(c)}") for c in version.clusters)
    form.duty_areas.choices = options((a.id, f"{a.code} {localized(a)}") for a in version.duty_areas)
    if comp is not None and not form.is_submitted():
        form.cluster.data = comp.cluster_id
        form.duty_areas.data = [a.id for a in comp.duty_areas]
        for level in LEVELS:
            descriptor = comp.descriptor(level)
            form[f"descriptor_{level}_zh"].data = descriptor.text_zh if descriptor else ""
            form[f"descriptor_{level}_en"].data = descriptor.text_en if descriptor else ""
        for grade in Grade:
            form[f"target_{grade.value}"].data = str(comp.target(grade) or "")


def _competency_values(form: CompetencyForm) -> dict:
    return {
        "code": form.code.data, "cluster_id": form.cluster.data, "name_zh": form.name_zh.data,
        "name_en": form.name_en.data, "description_zh": form.description_zh.data,
        "description_en": form.description_en.data, "weight": form.weight.data, "duty_area_ids": form.duty_areas.data,
        "descriptors": {lv: (form[f"descriptor_{lv}_zh"].data or "", form[f"descriptor_{lv}_en"].data or "") for lv in LEVELS},
        "targets": {g: (int(form[f"target_{g.value}"].data) if form[f"target_{g.value}"].data else None) for g in Grade},
    }


@bp.route("/models/<int:version_id>/competencies/new", methods=["GET", "POST"])
@bp.route("/models/<int:version_id>/competencies/<int:competency_id>", methods=["GET", "POST"])
@permission_required("models.edit")
def competency(version_id: int, competency_id: int | None = None):
    """Add or edit a competency with its descriptors, weight, targets and duty areas (drafts only)."""
    item = _version(version_id)
    comp = _part(Competency, competency_id, item) if competency_id else None
    form = edit_form(CompetencyForm, comp)
    _fill_competency_form(form, item, comp)
    if form.validate_on_submit():
        try:
            saved = editor.save_competency(item, _competency_values(form), comp, actor=current_user)
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(_("Competency %(code)s saved.", code=saved.code), "success")
            return _back(item, f"c-{saved.code}")
    return render_template("ksa/competency.html", version=item, comp=comp, form=form, levels=LEVELS,
                           grades=list(Grade), scale=versions.SCALE)


@bp.route("/models/<int:version_id>/competencies/<int:competency_id>/<any(remove,up,down):operation>", methods=["POST"])
@permission_required("models.edit")
def competency_operation(version_id: int, competency_id: int, operation: str):
    """Remove a competency or move it up or down within its cluster."""
    item = _version(version_id)
    comp = _part(Competency, competency_id, item)
    if not ActionForm().validate_on_submit():
        raise DomainError(_("The request could not be understood."))
    try:
        if operation == "remove":
            editor.remove_competency(comp, actor=current_user)
            flash(_("Competency removed."), "success")
        else:
            editor.move_competency(comp, -1 if operation == "up" else 1, actor=current_user)
    except DomainError as error:
        flash(str(error), "error")
    return _back(item, "competencies")


@bp.route("/models/<int:version_id>/duty-areas/new", methods=["GET", "POST"])
@bp.route("/models/<int:version_id>/duty-areas/<int:area_id>", methods=["GET", "POST"])
@permission_required("models.edit")
def duty_area(version_id: int, area_id: int | None = None):
    """Add or edit a duty area and its tasks (drafts only)."""
    item = _version(version_id)
    area = _part(DutyArea, area_id, item) if area_id else None
    form = edit_form(DutyAreaForm, area)
    if area is not None and not form.is_submitted():
        form.tasks_zh.data, form.tasks_en.data = "\n".join(area.tasks_zh), "\n".join(area.tasks_en)
    if form.validate_on_submit():
        values = {"code": form.code.data, "name_zh": form.name_zh.data, "name_en": form.name_en.data,
                  "tasks_zh": [t.strip() for t in form.tasks_zh.data.splitlines() if t.strip()],
                  "tasks_en": [t.strip() for t in form.tasks_en.data.splitlines() if t.strip()]}
        try:
            editor.save_duty_area(item, values, area, actor=current_user)
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(_("Duty area saved."), "success")
            return _back(item, "duty-areas")
    return render_template("ksa/duty_area.html", version=item, area=area, form=form)


@bp.route("/models/<int:version_id>/duty-areas/<int:area_id>/remove", methods=["POST"])
@permission_required("models.edit")
def remove_duty_area(version_id: int, area_id: int):
    """Remove a duty area from a draft."""
    item = _version(version_id)
    area = _part(DutyArea, area_id, item)
    if ActionForm().validate_on_submit():
        try:
            editor.remove_duty_area(area, actor=current_user)
            flash(_("Duty area removed."), "success")
        except DomainError as error:
            flash(str(error), "error")
    return _back(item, "duty-areas")


@bp.route("/models/<int:version_id>/targets", methods=["GET", "POST"])
@permission_required("models.edit")
def targets(version_id: int):
    """Edit the whole targets table (competencies × grades) of a draft."""
    item = _version(version_id)
    form = targets_form(item)
    if form.validate_on_submit():
        table = {c.id: {g: (int(form[f"t_{c.id}_{g.value}"].data) if form[f"t_{c.id}_{g.value}"].data else None)
                        for g in Grade} for c in item.competencies}
        try:
            editor.save_targets(item, table, actor=current_user)
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(_("Targets saved."), "success")
            return _back(item, "targets")
    return render_template("ksa/targets.html", version=item, form=form, grades=list(Grade))


@bp.route("/models/<int:version_id>/export.<any(yaml,xlsx):fmt>")
@permission_required("models.edit")
def export(version_id: int, fmt: str):
    """Download the version as YAML or .xlsx."""
    item = _version(version_id)
    audit.record_download("model", current_user, "model_version", item.id, format=fmt, position=item.position.code,
                          number=item.number)
    name = f"{item.position.code}-v{item.number}.{fmt}"
    if fmt == "yaml":
        return Response(model_export.export_yaml(item), mimetype="application/x-yaml",
                        headers={"Content-Disposition": f"attachment; filename={name}"})
    return Response(model_export.export_xlsx(item), headers={"Content-Disposition": f"attachment; filename={name}"},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/models/import", methods=["POST"])
@permission_required("models.edit")
def import_model():
    """Import a YAML or .xlsx model file as a new draft; list every error when it is refused."""
    form = ImportModelForm()
    if form.validate_on_submit():
        try:
            item = importer.import_file(form.file.data.read(), form.file.data.filename, actor=current_user)
        except ImportFailed as failure:
            return render_template("ksa/index.html", positions=versions.versions_by_position(), import_form=form,
                                   action=ActionForm(), errors=failure.errors), 422
        flash(_("Imported as draft version %(n)s.", n=item.number), "success")
        return _back(item)
    return render_template("ksa/index.html", positions=versions.versions_by_position(), import_form=form,
                           action=ActionForm()), 422


@bp.route("/my-model")
@login_required
def my_model():
    """The published model of my position, with my grade's and the next grade's targets highlighted."""
    me = current_user.employee
    item = versions.published_version(me.position_id) if me else None
    next_grade = me.grade.next() if me else None
    return render_template("ksa/my_model.html", me=me, version=item, groups=versions.grouped(item) if item else [],
                           levels=LEVELS, scale=versions.SCALE, next_grade=next_grade)
