"""Background jobs on Huey: long work runs outside the request, with progress a page can poll.

The queue is Huey's: by default its SQLite storage in the instance folder (nothing else to run: `make run` works
alone, and queued jobs survive a restart), on Redis when REDIS_URL is set (several web servers and worker machines
share one queue). Who runs the jobs is JOBS_WORKER: "thread" (default: a consumer thread inside each web process),
"external" (web processes only queue; `flask jobs worker` runs them) or "immediate" (inside the request that queued
them: the tests).

A job is a `Job` row (who, what, how it ended) and one Huey task that carries only its id. Kinds are registered with
`@kind("name")`: a function (job, progress) -> result dict, run in the language of the person who started it; it
raises DomainError (its message is the job's error) or ImportFailed (its row errors go into the result). While it
runs, its progress — done, total, stage, and a heartbeat every few seconds — is kept in the queue's storage, not in
the database, so that reporting never waits on the job's own transaction. A job whose worker died (no heartbeat for
STALE_SECONDS) is queued again, up to MAX_ATTEMPTS runs: every kind runs in one transaction, so a run that died
changed nothing."""
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy import select, update

from ..errors import DomainError
from ..extensions import db
from ..models.job import DONE, FAILED, QUEUED, RUNNING, Job
from ..timeutil import utcnow
from .imports.tabular import ImportFailed
from .unit_of_work import unit_of_work

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
STALE_SECONDS = 60
MAX_ATTEMPTS = 3
# An idle worker looks for work at least this often (Huey backs off up to 10 s by default).
POLL_SECONDS = 1.0
KINDS: dict[str, Callable] = {}

Progress = Callable[..., None]


def kind(name: str):
    """Register a job kind: a function (job, progress) -> result dict."""
    def register(function):
        KINDS[name] = function
        return function
    return register


# --- the queue ------------------------------------------------------------------------------------------------

def init_app(app) -> None:
    """Set up the app's queue (made on first use: no file or connection at start-up) and start the in-process
    consumer on the first request when JOBS_WORKER is "thread"."""
    app.extensions["jobs"] = {"huey": None, "task": None, "consumer": None, "lock": threading.RLock()}
    if app.config.get("JOBS_WORKER", "thread") == "thread":
        app.before_request(lambda: _ensure_consumer(app))


def _queue(app) -> dict:
    """The app's queue and its task, made once: Huey on memory (immediate mode), Redis or an SQLite file."""
    state = app.extensions["jobs"]
    with state["lock"]:
        if state["huey"] is None:
            name = app.config.get("JOBS_QUEUE", "competency")
            if app.config.get("JOBS_WORKER", "thread") == "immediate":
                huey = MemoryHuey(name, immediate=True)
            elif app.config.get("JOBS_REDIS_URL"):
                huey = RedisHuey(name, url=app.config["JOBS_REDIS_URL"])
            else:
                path = Path(app.config.get("JOBS_DB") or Path(app.instance_path) / "jobs.sqlite3")
                path.parent.mkdir(parents=True, exist_ok=True)
                huey = SqliteHuey(name, filename=str(path))

            @huey.task(name="competency.run_job")
            def run_job(job_id: str) -> None:
                execute(app, job_id)

            @huey.periodic_task(crontab(minute="*"), name="competency.recover_jobs")
            def recover_jobs() -> None:
                if claim_slot(huey, "recover_jobs", 1):
                    with app.app_context():
                        recover_stale()

            every = app.config.get("NOTIFY_EVERY_MINUTES", 10)

            @huey.periodic_task(crontab(minute=f"*/{every}" if every > 1 else "*"), name="competency.notify_run")
            def notify_run() -> None:
                if claim_slot(huey, "notify_run", every):
                    _notify_run(app)

            @huey.task(name="competency.send_mail")
            def send_mail() -> None:
                _notify_run(app, reminders=False)

            state["task"], state["huey"], state["send_mail"] = run_job, huey, send_mail
    return state


def claim_slot(huey, name: str, every_minutes: int, now: float | None = None) -> bool:
    """Whether this consumer runs the periodic task `name` in its current slot of `every_minutes`: every web
    process's consumer (and every worker) wakes for it, the first to claim the slot in the shared queue runs it
    and the others leave it (a crash mid-run leaves the slot's run undone; the next slot catches up)."""
    slot = int((time.time() if now is None else now) // (60 * every_minutes))
    if not huey.put_if_empty(f"slot:{name}:{slot}", "1"):
        return False
    huey.delete(f"slot:{name}:{slot - 1}")  # the claim before this one is no longer needed
    return True


def _notify_run(app, reminders: bool = True) -> None:
    """`flask notify run` on the consumer (the timer under `make run`), or only the outbox (a password reset link
    waits for no timer). Several consumers may run it at once: it is safe to."""
    from .notifications import mail, runner

    with app.app_context():
        try:
            runner.run() if reminders else mail.drain()
        except Exception:
            log.exception("notify run failed")
        finally:
            db.session.remove()


def send_mail_soon(app=None) -> None:
    """Have the consumer send the outbox now (not in this request); in immediate mode (tests) nothing: the
    next `notify run` sends it."""
    app = app or current_app._get_current_object()
    if app.config.get("JOBS_WORKER", "thread") != "immediate":
        _queue(app)["send_mail"]()


def huey_of(app=None):
    return _queue(app or current_app._get_current_object())["huey"]


def _ensure_consumer(app) -> None:
    state = app.extensions["jobs"]
    if state["consumer"] is None:
        with state["lock"]:  # re-entrant: the queue is made under it too
            if state["consumer"] is None:
                state["consumer"] = start_consumer(app, workers=app.config.get("JOBS_THREADS", 1))


class _ThreadConsumer(Consumer):
    """Huey's consumer without signal handlers, for running inside a web process (not its main thread)."""

    def _set_signal_handlers(self):
        pass


def start_consumer(app, workers: int = 1) -> Consumer:
    """Start a consumer in threads of this process (in-process mode, and tests); queue again what died first."""
    with app.app_context():
        recover_stale()
    consumer = _ThreadConsumer(huey_of(app), workers=workers, worker_type="thread", periodic=True,
                               check_worker_health=False, scheduler_interval=1, max_delay=POLL_SECONDS)
    consumer.start()
    return consumer


def run_worker(app, workers: int) -> None:
    """`flask jobs worker`: run jobs in this process until stopped (SIGTERM or SIGINT end it gracefully)."""
    with app.app_context():
        recover_stale()
    huey_of(app).create_consumer(workers=workers, worker_type="thread", periodic=True, max_delay=POLL_SECONDS).run()


# --- starting and reading jobs ------------------------------------------------------------------------------

def unfinished(kind_name: str, params: dict) -> Job | None:
    """A queued or running job of that kind with these params (a second click finds the first one's job)."""
    for job in db.session.scalars(select(Job).where(Job.kind == kind_name, Job.status.in_([QUEUED, RUNNING]))):
        if job.params == params:
            return job
    return None


def start(kind_name: str, user, params: dict, locale: str) -> Job:
    """Queue a job of that kind for the user (committing its row first, so that any worker finds it)."""
    if kind_name not in KINDS:
        raise KeyError(kind_name)
    job = Job(id=secrets.token_hex(16), kind=kind_name, user_id=user.id if user else None, locale=locale,
              status=QUEUED, params=params, attempts=0)
    with unit_of_work():  # committed before it is queued, so that any worker finds it
        db.session.add(job)
    _enqueue(job.id)
    db.session.expire_all()  # an immediate run changed the row in its own session
    return db.session.get(Job, job.id)


def _enqueue(job_id: str) -> None:
    _queue(current_app._get_current_object())["task"](job_id)


def progress_of(job: Job) -> dict:
    """What the job has done so far: done, total, stage, percent, seconds left (None when unknown)."""
    if job.status == DONE:
        total = (job.result or {}).get("total") or 1
        return {"done": total, "total": total, "stage": None, "percent": 100, "seconds_left": 0}
    seen = huey_of().get(_progress_key(job.id), peek=True) if job.status == RUNNING else None
    done, total = (seen or {}).get("done", 0), (seen or {}).get("total", 0)
    percent = min(100, int(done * 100 / total)) if total else 0
    seconds_left = None
    if job.started_at and total and done:
        elapsed = (utcnow() - job.started_at).total_seconds()
        seconds_left = max(0, int(elapsed * (total - done) / done))
    return {"done": done, "total": total, "stage": (seen or {}).get("stage"), "percent": percent,
            "seconds_left": seconds_left}


def _progress_key(job_id: str) -> str:
    return f"progress:{job_id}"


def recent(user, limit: int = 20) -> list[Job]:
    """The user's latest jobs, newest first."""
    return db.session.scalars(select(Job).where(Job.user_id == user.id)
                              .order_by(Job.created_at.desc()).limit(limit)).all()


# --- running a job ------------------------------------------------------------------------------------------

class _Reporter:
    """The progress callback a kind receives: keeps done/total/stage in the queue's storage (at most every
    half second, and always at the end of a stage), and a heartbeat thread that marks the job alive."""

    def __init__(self, huey, job_id: str):
        self.huey, self.key = huey, _progress_key(job_id)
        self.state = {"done": 0, "total": 0, "stage": None, "at": time.time()}
        self.last = 0.0
        self.stop = threading.Event()
        self.beat = threading.Thread(target=self._heartbeat, daemon=True)

    def __call__(self, done: int, total: int, stage: str | None = None) -> None:
        now = time.time()
        changed_stage = stage is not None and stage != self.state["stage"]
        self.state.update(done=done, total=total, at=now, **({"stage": stage} if stage is not None else {}))
        if changed_stage or done >= total or now - self.last >= 0.5:
            self.last = now
            self.huey.put(self.key, dict(self.state))

    def _heartbeat(self) -> None:
        while not self.stop.wait(HEARTBEAT_SECONDS):
            self.state["at"] = time.time()
            self.huey.put(self.key, dict(self.state))

    def __enter__(self):
        self.huey.put(self.key, dict(self.state))
        self.beat.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.beat.join()
        self.huey.delete(self.key)


def _move(job_id: str, from_status: str | None, **values) -> bool:
    """Change the job's row, if it still has `from_status` (any status when None), in a transaction of its own;
    whether it changed (another worker may have taken or ended it first)."""
    query = update(Job).where(Job.id == job_id)
    if from_status is not None:
        query = query.where(Job.status == from_status)
    with unit_of_work():
        return db.session.execute(query.values(**values)).rowcount > 0


def execute(app, job_id: str) -> None:
    """Run one queued job to its end (done or failed); a job another worker took, or that ended, is left alone."""
    with app.app_context():
        if not _move(job_id, QUEUED, status=RUNNING, started_at=utcnow(), attempts=Job.attempts + 1):
            return
        job = db.session.get(Job, job_id)
        with _Reporter(huey_of(app), job_id) as progress, force_locale(job.locale):
            outcome = _run(job, progress)
        _move(job_id, None, finished_at=utcnow(), **outcome)
        db.session.remove()


def _run(job: Job, progress) -> dict:
    """The job's kind run: how it ended, as the values of its row. Whatever it left unfinished is rolled back."""
    try:
        return {"status": DONE, "result": KINDS[job.kind](job, progress) or {}}
    except ImportFailed as failure:
        outcome = {"status": FAILED, "error": str(_l("The file has errors: nothing was imported.")),
                   "result": {"errors": [_row_error(e) for e in failure.errors]}}
    except DomainError as error:
        outcome = {"status": FAILED, "error": str(error)}
    except Exception:
        log.exception("job %s (%s) failed", job.id, job.kind)
        outcome = {"status": FAILED, "error": str(_l("The job failed unexpectedly; nothing was changed. "
                                                     "Try again, or tell the administrator."))}
    db.session.rollback()
    return outcome


def _row_error(error) -> dict:
    return {"line": error.line, "column": error.column, "message": str(error.message), "sheet": error.sheet}


def recover_stale(now=None) -> int:
    """Queue again the running jobs whose worker died (no heartbeat for STALE_SECONDS); a job that already ran
    MAX_ATTEMPTS times fails instead. Returns how many were queued again."""
    now_ts = time.time() if now is None else now
    huey = huey_of()
    again = 0
    started_before = utcnow() - timedelta(seconds=STALE_SECONDS)
    for job in db.session.scalars(select(Job).where(Job.status == RUNNING)).all():
        seen = huey.get(_progress_key(job.id), peek=True)
        alive = now_ts - seen["at"] < STALE_SECONDS if seen else job.started_at is None or job.started_at >= started_before
        if alive:
            continue
        if job.attempts >= MAX_ATTEMPTS:
            with force_locale(job.locale):
                error = str(_l("The job was interrupted %(n)s times (the server restarted); nothing was changed. "
                               "Start it again.", n=job.attempts))
            _move(job.id, RUNNING, status=FAILED, finished_at=utcnow(), error=error)
        elif _move(job.id, RUNNING, status=QUEUED):
            huey.delete(_progress_key(job.id))
            _enqueue(job.id)
            again += 1
    return again
