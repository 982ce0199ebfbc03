"""Upload, preview (dry run) and confirm imports of org units, employees and annual sales."""
from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..security import permission_required
from ..services import access, settings
from ..services.imports import ImportFailed, import_employees, import_org_units, import_sales, staging
from . import bp
from .forms import ConfirmForm, UploadForm


def run_import(kind: str, data: bytes, filename: str, dry_run: bool):
    """Run the import of that kind (org_units, employees or sales) with the app's settings."""
    if kind == "org_units":
        return import_org_units(data, filename, dry_run=dry_run, actor=current_user)
    if kind == "sales":
        return import_sales(data, filename, dry_run=dry_run, actor=current_user)
    return import_employees(
        data, filename, dry_run=dry_run, actor=current_user,
        probation_months=settings.probation_months(current_app.config["PROBATION_MONTHS"]),
        hash_method=current_app.config.get("PASSWORD_HASH_METHOD"),
    )


@bp.route("/", methods=["GET", "POST"])
@permission_required("imports.run")
def upload():
    """Check an uploaded file without writing anything and show what the import would do."""
    form = UploadForm()
    if form.validate_on_submit():
        upload_file = form.file.data
        data, filename = upload_file.read(), upload_file.filename
        try:
            result = run_import(form.kind.data, data, filename, dry_run=True)
        except ImportFailed as failure:
            return render_template("imports/upload.html", form=form, errors=failure.errors), 422
        token = staging.stage(current_app.instance_path, data, {
            "kind": form.kind.data, "filename": filename, "user": current_user.id})
        return render_template("imports/upload.html", form=form, result=result,
                               confirm=ConfirmForm(token=token))
    return render_template("imports/upload.html", form=form)


@bp.route("/confirm", methods=["POST"])
@permission_required("imports.run")
def confirm():
    """Import a previously checked file for real (all or nothing), once however often it is confirmed."""
    form = ConfirmForm()
    token = form.token.data if form.validate_on_submit() else None
    staged = staging.load(current_app.instance_path, token) if token else None
    if staged is None or not access.owns_upload(current_user, staged[1]):
        return _not_importable(token, staged is None)
    claimed = staging.claim(current_app.instance_path, token)
    if claimed is None:
        return _not_importable(token, True)
    data, meta = claimed
    imported = False
    try:
        result = run_import(meta["kind"], data, meta["filename"], dry_run=False)
        imported = True
    except ImportFailed as failure:
        return render_template("imports/upload.html", form=UploadForm(), errors=failure.errors), 422
    finally:
        staging.release(current_app.instance_path, token, imported)
    flash(_("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
            created=result.created, updated=result.updated, unchanged=result.unchanged), "success")
    return redirect(url_for("imports.upload"))


def _not_importable(token: str | None, gone: bool):
    """Back to the upload page: the upload was already imported (a second click), or has expired."""
    if gone and staging.was_claimed(current_app.instance_path, token):
        flash(_("This file has already been imported (or is being imported): it was not imported a second time."), "info")
    else:
        flash(_("That upload has expired: choose the file again."), "error")
    return redirect(url_for("imports.upload"))
