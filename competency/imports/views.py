"""Upload, preview (dry run) and confirm imports of org units, employees and annual sales. Both the preview and the
import run as background jobs (services/background.py): the page shows their progress, a sign-in or any other page
never waits on them, and a large file never meets the web server's timeout."""
import io

from flask import current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..config import files_dir
from ..i18n import lang
from ..jobs.views import follow
from ..models.job import FAILED
from ..security import permission_required
from ..services import access, jobs
from ..services.imports import staging
from ..services.imports import template as import_template
from . import bp
from .forms import ConfirmForm, UploadForm


@bp.route("/", methods=["GET", "POST"])
@permission_required("imports.run")
def upload():
    """Keep the uploaded file and check it in the background without writing anything; the preview shows what the
    import would do."""
    form = UploadForm()
    if form.validate_on_submit():
        upload_file = form.file.data
        token = staging.stage(files_dir(current_app), upload_file.read(), {
            "kind": form.kind.data, "filename": upload_file.filename, "user": current_user.id})
        job = jobs.start("import.preview", current_user, {"token": token}, lang())
        if job.finished:
            return _preview(job, form)
        return redirect(url_for("jobs.detail", job_id=job.id))
    return render_template("imports/upload.html", form=form)


@bp.route(f"/template/<any({', '.join(import_template.KINDS)}):kind>.xlsx")
@permission_required("imports.run")
def template(kind: str):
    """The .xlsx import template of a kind, headers and instructions in the user's language."""
    return send_file(io.BytesIO(import_template.template(kind)), as_attachment=True, download_name=f"{kind}_template.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/preview/<job_id>")
@permission_required("imports.run")
def preview(job_id: str):
    """The preview of a checked file, with the button that imports it."""
    job = access.own_job_or_404(current_user, job_id)
    if job.kind != "import.preview" or not job.finished:
        return redirect(url_for("jobs.detail", job_id=job.id))
    return _preview(job, UploadForm())


def _preview(job, form):
    if job.status == FAILED:
        errors = (job.result or {}).get("errors")
        if not errors:
            flash(job.error, "error")
        return render_template("imports/upload.html", form=form, errors=errors), 422
    result = job.result
    return render_template("imports/upload.html", form=form, result=result, confirm=ConfirmForm(token=result["token"]))


@bp.route("/confirm", methods=["POST"])
@permission_required("imports.run")
def confirm():
    """Import a previously checked file for real (all or nothing) in the background, once however often it is
    confirmed: the upload is claimed here, so a second click is shown the import already under way."""
    form = ConfirmForm()
    token = form.token.data if form.validate_on_submit() else None
    staged = staging.load(files_dir(current_app), token) if token else None
    if staged is None or not access.owns_upload(current_user, staged[1]):
        return _not_importable(token, staged is None)
    if staging.claim(files_dir(current_app), token) is None:
        return _not_importable(token, True)
    job = jobs.start("import.apply", current_user, {"token": token}, lang())
    staging.note_job(files_dir(current_app), token, job.id)
    if job.status == FAILED and (job.result or {}).get("errors"):
        return render_template("imports/upload.html", form=UploadForm(), errors=job.result["errors"]), 422
    return follow(job, url_for("imports.upload"))


def _not_importable(token: str | None, gone: bool):
    """The upload was already imported or is being imported (a second click: shown that import), or has expired."""
    if gone and staging.was_claimed(files_dir(current_app), token):
        flash(_("This file has already been imported (or is being imported): it was not imported a second time."), "info")
        job_id = staging.job_of(files_dir(current_app), token)
        if job_id:
            return redirect(url_for("jobs.detail", job_id=job_id))
    else:
        flash(_("That upload has expired: choose the file again."), "error")
    return redirect(url_for("imports.upload"))
