"""A background job's page (progress bar that updates itself, then the result), its status as JSON for that page,
the way on to its result, an export's download, and the list of one's recent jobs."""
from flask import flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import NotFound
from ..i18n import lang
from ..models.job import DONE, FAILED
from ..services import access, background, jobs
from . import bp

TITLES = {
    "review.run": lambda: _("Running the annual review"),
    "cycle.open": lambda: _("Opening the cycle"),
    "import.preview": lambda: _("Checking the file"),
    "import.apply": lambda: _("Importing the file"),
    "export": lambda: _("Preparing the export"),
}
STAGES = {
    "rows": lambda: _("rows written"),
    "open": lambda: _("creating the assessments"),
}


def title(job) -> str:
    return TITLES.get(job.kind, lambda: job.kind)()


def next_url(job) -> str | None:
    """Where the job's result is shown, once it is done."""
    if job.status != DONE:
        return None
    found = (job.result or {}).get("next")
    if found:
        return url_for("jobs.proceed", job_id=job.id)
    return url_for("jobs.download", job_id=job.id) if (job.result or {}).get("download") else None


def status(job) -> dict:
    """The job's state for its page: status, progress, the message or error, and where to go next."""
    progress = jobs.progress_of(job)
    stage = progress.pop("stage")
    return {"id": job.id, "status": job.status, **progress,
            "stage": STAGES[stage]() if stage in STAGES else None,
            "message": (job.result or {}).get("message") if job.status == DONE else None,
            "error": job.error if job.status == FAILED else None, "next": next_url(job),
            "auto": job.status == DONE and bool((job.result or {}).get("next"))}


def start_once(kind: str, params: dict, back: str):
    """Start a job of that kind unless the same one is already queued or running (a double click, or a colleague
    running it): then show that one, saying so, when it is the user's own, or say it is under way."""
    running = jobs.unfinished(kind, params)
    if running is not None:
        flash(_("This is already under way: it was not started a second time."), "info")
        return redirect(url_for("jobs.detail", job_id=running.id) if running.user_id == current_user.id else back)
    return follow(jobs.start(kind, current_user, params, lang()), back)


def follow(job, back: str):
    """Answer a request that started a job: when it already ended (it was quick, or ran inside the request), its
    result — flash the message and go on, or flash the error and go `back`; else its page, which shows progress."""
    if job.status == DONE and (job.result or {}).get("next"):
        return proceed(job.id)
    if job.status == FAILED:
        flash(job.error, "error")
        return redirect(back)
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.route("/")
@login_required
def index():
    """My recent jobs."""
    return render_template("jobs/index.html", jobs=jobs.recent(current_user), title=title, status=status)


@bp.route("/<job_id>")
@login_required
def detail(job_id: str):
    """A job's progress (updated by static/js/jobs.js without reloading) and, when it ends, its result."""
    job = access.own_job_or_404(current_user, job_id)
    return render_template("jobs/detail.html", job=job, title=title(job), state=status(job))


@bp.route("/<job_id>/status")
@login_required
def state(job_id: str):
    """The job's state as JSON, polled by its page."""
    job = access.own_job_or_404(current_user, job_id)
    return jsonify(status(job))


@bp.route("/<job_id>/next")
@login_required
def proceed(job_id: str):
    """On to a finished job's result, with its message."""
    job = access.own_job_or_404(current_user, job_id)
    found = (job.result or {}).get("next") if job.status == DONE else None
    if not found:
        return redirect(url_for("jobs.detail", job_id=job.id))
    if job.result.get("message"):
        flash(job.result["message"], "success")
    return redirect(url_for(found["endpoint"], **found["values"]))


@bp.route("/<job_id>/download")
@login_required
def download(job_id: str):
    """The file of a finished export, for the person who asked for it (kept for a day)."""
    job = access.own_job_or_404(current_user, job_id)
    result = job.result or {}
    path = background.export_folder() / result.get("file", "-") if job.status == DONE and result.get("download") else None
    if path is None or not path.is_file():
        raise NotFound(_("This export is no longer available: export again."))
    return send_file(path, as_attachment=True, download_name=result["filename"], max_age=0)
