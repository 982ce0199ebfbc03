"""Uploaded files kept between the dry-run preview and the confirmed import.

A confirmed upload is claimed before it is imported (its metadata renamed, which only one request can do), so a
double click or two tabs import it once; once imported it leaves a marker for a day, so that a late second click is
told it was imported rather than that it expired."""
import json
import secrets
import time
from pathlib import Path

# A preview nobody confirmed within a day is abandoned: it cannot be confirmed any more, and its upload is removed
# when the next one is staged or loaded, and by the daily housekeeping (the first request of the day).
MAX_AGE_SECONDS = 24 * 60 * 60


def _folder(instance_path: str) -> Path:
    folder = Path(instance_path) / "staged"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stage(instance_path: str, data: bytes, meta: dict) -> str:
    """Keep an upload on disk (after removing abandoned ones); return the token that finds it again."""
    token = secrets.token_hex(16)
    folder = _folder(instance_path)
    remove_stale(folder, time.time() - MAX_AGE_SECONDS)
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(meta))
    return token


STAGED = (".bin", ".json", ".claimed", ".done", ".job")


def remove_stale(folder: Path, cutoff: float, suffixes: tuple[str, ...] | None = STAGED) -> None:
    """Remove the files of the folder (those with these suffixes; every one for None) last written before `cutoff`
    (a time stamp)."""
    for path in folder.iterdir():
        if suffixes is not None and path.suffix not in suffixes:
            continue
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue  # another request confirmed, discarded or removed it since the listing


def load(instance_path: str, token: str) -> tuple[bytes, dict] | None:
    """The staged upload and its metadata, or None for an unknown, abandoned (over a day old) or meanwhile removed
    token; abandoned uploads are removed on the way."""
    if not token or not token.isalnum():
        return None
    folder = _folder(instance_path)
    remove_stale(folder, time.time() - MAX_AGE_SECONDS)
    try:
        return (folder / f"{token}.bin").read_bytes(), json.loads((folder / f"{token}.json").read_text())
    except FileNotFoundError:
        return None


def remove_abandoned(instance_path: str) -> None:
    """Remove every upload staged more than a day ago (daily housekeeping)."""
    folder = Path(instance_path) / "staged"
    if folder.is_dir():
        remove_stale(folder, time.time() - MAX_AGE_SECONDS)


def discard(instance_path: str, token: str) -> None:
    """Remove a staged upload."""
    folder = _folder(instance_path)
    for suffix in (".bin", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def claim(instance_path: str, token: str) -> tuple[bytes, dict] | None:
    """Take the staged upload for importing: the upload and its metadata, or None when another request claimed it
    first (or it is gone). Only one request can rename the metadata, so only one gets the upload."""
    if not token or not token.isalnum():
        return None
    folder = _folder(instance_path)
    try:
        (folder / f"{token}.json").rename(folder / f"{token}.claimed")
    except FileNotFoundError:
        return None
    return claimed(instance_path, token)


def release(instance_path: str, token: str, imported: bool = True) -> None:
    """Remove a claimed upload once its import ended, leaving the marker that it was imported (none when the import
    was refused: nothing was written, and the file must be chosen again)."""
    folder = _folder(instance_path)
    (folder / f"{token}.bin").unlink(missing_ok=True)
    try:
        if imported:
            (folder / f"{token}.claimed").rename(folder / f"{token}.done")
        else:
            (folder / f"{token}.claimed").unlink()
    except FileNotFoundError:
        pass


def was_claimed(instance_path: str, token: str) -> bool:
    """Whether the upload is being imported or was imported (within the last day)."""
    if not token or not token.isalnum():
        return False
    folder = _folder(instance_path)
    return (folder / f"{token}.claimed").exists() or (folder / f"{token}.done").exists()


def claimed(instance_path: str, token: str) -> tuple[bytes, dict] | None:
    """A claimed upload and its metadata (for the job that imports it), or None when it is gone."""
    if not token or not token.isalnum():
        return None
    folder = _folder(instance_path)
    try:
        return (folder / f"{token}.bin").read_bytes(), json.loads((folder / f"{token}.claimed").read_text())
    except FileNotFoundError:
        return None


def note_job(instance_path: str, token: str, job_id: str) -> None:
    """Remember which job imports a claimed upload, so that a second click is shown that job."""
    (_folder(instance_path) / f"{token}.job").write_text(job_id)


def job_of(instance_path: str, token: str) -> str | None:
    """The job importing (or that imported) the upload, when one was noted."""
    if not token or not token.isalnum():
        return None
    try:
        return (_folder(instance_path) / f"{token}.job").read_text().strip() or None
    except FileNotFoundError:
        return None
