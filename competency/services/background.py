"""The kinds of background job (services/jobs.py): review runs, import previews and imports, large exports, opening
a cycle. Each takes the job (its params, its user) and a progress callback, runs in one transaction, and returns
what the job page shows: a message, where to go next, and for exports the file to download."""
import time
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from ..config import files_dir
from ..errors import DomainError
from ..extensions import db
from ..models import Cycle, User
from ..models.job import Job
from . import access, exports, settings
from .analytics import Filters
from .assessments import cycles
from .imports import IMPORTERS, staging
from .jobs import kind
from .review import runs

# An import preview shows this many rows one by one (and counts them all).
PREVIEW_ROWS = 1_000
# Finished exports are kept for the person who asked for them this long, then removed by the daily housekeeping.
EXPORT_MAX_AGE_SECONDS = 24 * 60 * 60


def _actor(job: Job) -> User:
    user = db.session.get(User, job.user_id) if job.user_id else None
    if user is None or not user.active:
        raise DomainError(_("The account that started this job no longer exists or is deactivated."))
    return user


@kind("review.run")
def run_review(job: Job, progress) -> dict:
    year = job.params["year"]
    item = runs.run_review(year, actor=_actor(job), progress=progress)
    return {"message": _("The review of %(year)s is ready: check the recommendations.", year=item.year),
            "next": {"endpoint": "review.run", "values": {"year": item.year}}}


@kind("cycle.open")
def open_cycle(job: Job, progress) -> dict:
    cycle = db.session.get(Cycle, job.params["cycle_id"])
    if cycle is None:
        raise DomainError(_("This cycle no longer exists."))
    progress(0, 1, "open")
    created = cycles.open_cycle(cycle, actor=_actor(job))
    progress(1, 1, "open")
    return {"message": _("The cycle is open: %(n)s assessments created.", n=created),
            "next": {"endpoint": "cycles.detail", "values": {"cycle_id": cycle.id}}, "total": 1}


def import_options(kind_name: str) -> dict:
    """What the importer of that kind needs besides the file, from the app's settings."""
    if kind_name != "employees":
        return {}
    return {"probation_months": settings.probation_months(current_app.config["PROBATION_MONTHS"]),
            "hash_method": current_app.config.get("PASSWORD_HASH_METHOD")}


def _import(job: Job, data: bytes, meta: dict, dry_run: bool, progress):
    importer = IMPORTERS[meta["kind"]]
    return importer(data, meta["filename"], dry_run=dry_run, actor=_actor(job), progress=progress,
                    **import_options(meta["kind"]))


@kind("import.preview")
def preview_import(job: Job, progress) -> dict:
    """Check a staged upload without writing anything; its preview (counts and the first rows) is the result. A
    refused file is removed: it has to be chosen again."""
    token = job.params["token"]
    staged = staging.load(files_dir(current_app), token)
    if staged is None:
        raise DomainError(_("That upload has expired: choose the file again."))
    data, meta = staged
    try:
        result = _import(job, data, meta, True, progress)
    except Exception:
        staging.discard(files_dir(current_app), token)
        raise
    return {"token": token, "kind": meta["kind"], "filename": meta["filename"], "created": result.created,
            "updated": result.updated, "unchanged": result.unchanged, "rows": len(result.actions),
            "notices": [str(notice) for notice in result.notices],
            "actions": result.actions[:PREVIEW_ROWS], "total": max(len(result.actions), 1),
            "next": {"endpoint": "imports.preview", "values": {"job_id": job.id}}}


@kind("import.apply")
def apply_import(job: Job, progress) -> dict:
    """Import an upload the page claimed (all or nothing); the claim is released when it ends, with the marker that it
    was imported unless it was refused."""
    token = job.params["token"]
    claimed = staging.claimed(files_dir(current_app), token)
    if claimed is None:
        raise DomainError(_("That upload has expired: choose the file again."))
    data, meta = claimed
    imported = False
    try:
        result = _import(job, data, meta, False, progress)
        imported = True
    finally:
        staging.release(files_dir(current_app), token, imported)
    return {"message": _("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
                         created=result.created, updated=result.updated, unchanged=result.unchanged),
            "next": {"endpoint": "imports.upload", "values": {}}, "total": max(len(result.actions), 1)}


def export_folder() -> Path:
    folder = Path(files_dir(current_app)) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _counted(data, total: int, progress, every: int = 5_000):
    """The rows, reporting progress every `every` rows."""
    done = 0
    for row in data:
        yield row
        done += 1
        if done % every == 0:
            progress(done, total, "rows")
    progress(total, total, "rows")


@kind("export")
def export(job: Job, progress) -> dict:
    """Write an export to a file in the instance folder, for the person who asked for it to download."""
    params = job.params
    user = _actor(job)
    total = params["rows"]
    filters = Filters(**params["filters"])
    header, data = exports.rows(params["kind"], filters, access.export_scope(user), params["year"])
    body = (exports.stream_csv if params["format"] == "csv" else
            lambda h, d: exports.stream_xlsx(h, d, params["kind"]))(header, _counted(data, total, progress))
    path = export_folder() / f"{job.id}.{params['format']}"
    with path.open("wb") as file:
        for chunk in body:
            file.write(chunk)
    db.session.rollback()  # the read transaction ends; nothing was written
    return {"message": _("The export is ready: %(n)s rows.", n=format(total, ",")), "file": path.name,
            "filename": params["filename"], "total": max(total, 1), "download": True}


def remove_old_exports() -> None:
    """Remove the export files written more than a day ago (daily housekeeping)."""
    folder = Path(files_dir(current_app)) / "exports"
    if not folder.is_dir():
        return
    staging.remove_stale(folder, time.time() - EXPORT_MAX_AGE_SECONDS, suffixes=None)
