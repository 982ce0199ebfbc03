"""Background jobs (Huey): long work leaves the request and shows its progress; a second request sees it while it
runs; queued work survives a restart of the worker and a worker that died is replaced; the queue works on its
embedded SQLite storage and on Redis; exports over the limit are written by a job and downloaded by their owner only."""
import io
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from competency.extensions import db
from competency.models import Employee, Job, User
from competency.models.job import DONE, FAILED, QUEUED, RUNNING
from competency.services import background, jobs
from competency.timeutil import utcnow

from . import factories
from .test_import_scale import people_file


@pytest.fixture
def bank(app):
    factories.position("CM_CORP")
    factories.org_unit(code="BR1")
    db.session.commit()


def _worker_app(make_app, tmp_path, **config):
    """An app whose web side only queues jobs (a worker runs them), on the test database and its own queue."""
    return make_app(JOBS_WORKER="external", JOBS_DB=str(tmp_path / "jobs.sqlite3"), FILES_DIR=str(tmp_path / "files"),
                    **config)


def _sign_in(app, role="admin"):
    client = app.test_client()
    user = factories.user(roles=[role])
    db.session.commit()
    with client.session_transaction() as session:
        factories.sign_in(session, user)
    return client, user


def _upload(client, rows: int, prefix="J"):
    return client.post("/imports/", data={"kind": "employees", "file": (io.BytesIO(people_file(prefix, rows, "BR1")), "p.csv")},
                       content_type="multipart/form-data", headers={"Accept-Language": "en"})


def _job_id(response) -> str:
    assert response.status_code == 302, response.data[:500]
    location = response.headers["Location"]
    assert "/jobs/" in location
    return location.rstrip("/").split("/jobs/")[1].split("/")[0]


def _wait(client, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/jobs/{job_id}/status").get_json()
        if state["status"] in (DONE, FAILED):
            return state
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {state}")


def _hold_at_first_report(monkeypatch):
    """Pause the import of a job after its first report of rows checked, until the test lets it go on."""
    reported, go_on = threading.Event(), threading.Event()
    real = background._import

    def paused(job, data, meta, dry_run, progress):
        def report(done, total, stage=None):
            progress(done, total, stage)
            if done and not reported.is_set():
                progress.last = 0  # make sure this report is stored now
                progress(done, total, stage)
                reported.set()
                assert go_on.wait(30)
        return real(job, data, meta, dry_run, report)

    monkeypatch.setattr(background, "_import", paused)
    return reported, go_on


def _watch_progress_from_a_second_request(make_app, tmp_path, monkeypatch, **config):
    web = _worker_app(make_app, tmp_path, **config)
    reported, go_on = _hold_at_first_report(monkeypatch)
    with web.app_context():
        client, _user = _sign_in(web)
        job_id = _job_id(_upload(client, 3000))
        assert client.get(f"/jobs/{job_id}/status").get_json()["status"] == QUEUED
        consumer = jobs.start_consumer(web)
        try:
            assert reported.wait(60)
            state = client.get(f"/jobs/{job_id}/status").get_json()
            page = client.get(f"/jobs/{job_id}", headers={"Accept-Language": "en"}).data.decode()
            go_on.set()
            final = _wait(client, job_id)
        finally:
            go_on.set()
            consumer.stop(graceful=True)
        preview = client.get(final["next"], follow_redirects=True, headers={"Accept-Language": "en"})
    assert state["status"] == RUNNING and state["total"] == 3000 and 0 < state["done"] < 3000
    assert state["percent"] == state["done"] * 100 // 3000 < 100
    assert "<progress" in page and "jobs.js" in page and "rows done" in page
    assert final["status"] == DONE and final["percent"] == 100
    assert preview.status_code == 200 and b"will create 3000" in preview.data
    assert db.session.scalar(select(func.count(Employee.id)).where(Employee.staff_no.startswith("J"))) == 0


def test_a_jobs_progress_is_seen_from_a_second_request_on_the_embedded_queue(bank, make_app, tmp_path, monkeypatch):
    _watch_progress_from_a_second_request(make_app, tmp_path, monkeypatch)


def test_jobs_run_on_redis_when_it_is_configured(bank, make_app, tmp_path, monkeypatch, redis_url):
    _watch_progress_from_a_second_request(make_app, tmp_path, monkeypatch, JOBS_REDIS_URL=redis_url,
                                          JOBS_QUEUE=f"competency-test-{uuid.uuid4().hex[:8]}")


def test_a_queued_job_waits_for_a_worker_and_a_new_worker_process_runs_it(bank, make_app, tmp_path, database_url):
    web = _worker_app(make_app, tmp_path)
    with web.app_context():
        client, _user = _sign_in(web)
        job_id = _job_id(_upload(client, 50))
        time.sleep(0.5)
        assert db.session.get(Job, job_id).status == QUEUED  # nobody runs it yet
        env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="x" * 64, FLASK_APP="competency",
                   COMPETENCY_JOBS_WORKER="external", COMPETENCY_JOBS_DB=str(tmp_path / "jobs.sqlite3"),
                   COMPETENCY_FILES_DIR=str(tmp_path / "files"))
        env.pop("REDIS_URL", None)
        # The worker is a process of its own, as after a restart: it finds the job in the queue's file.
        worker = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker", "--threads", "1"], env=env,
                                  cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            state = _wait(client, job_id, timeout=90)
        finally:
            worker.terminate()
            output = worker.communicate(timeout=30)[0].decode()
    assert state["status"] == DONE, output[-2000:]
    assert worker.returncode is not None


def test_a_job_whose_worker_died_runs_again_and_gives_up_after_three_runs(bank, make_app, tmp_path):
    web = _worker_app(make_app, tmp_path)
    with web.app_context():
        client, user = _sign_in(web)
        first, second = _job_id(_upload(client, 20, "K")), _job_id(_upload(client, 20, "L"))
        long_ago = utcnow() - timedelta(minutes=10)
        # Both were taken by a worker that was then killed: running, no heartbeat for ten minutes.
        db.session.execute(update(Job).where(Job.id == first).values(status=RUNNING, attempts=1, started_at=long_ago))
        db.session.execute(update(Job).where(Job.id == second).values(status=RUNNING, attempts=3, started_at=long_ago))
        # A third is running right now, in a live worker: left alone.
        third = _job_id(_upload(client, 20, "M"))
        db.session.execute(update(Job).where(Job.id == third).values(status=RUNNING, attempts=1, started_at=utcnow()))
        db.session.commit()
        consumer = jobs.start_consumer(web)  # a starting worker looks for jobs that died first
        try:
            state = _wait(client, first)
        finally:
            consumer.stop(graceful=True)
        db.session.expire_all()
        gave_up, alive = db.session.get(Job, second), db.session.get(Job, third)
    assert state["status"] == DONE and db.session.get(Job, first).attempts == 2
    assert gave_up.status == FAILED and "interrupted 3 times" in gave_up.error
    assert alive.status == RUNNING


def test_a_refused_file_fails_its_job_with_the_errors_in_the_users_language(bank, client, login_as):
    login_as("admin")
    bad = people_file("Z", 3, "NOPE")
    page = client.post("/imports/", data={"kind": "employees", "file": (io.BytesIO(bad), "p.csv")},
                       content_type="multipart/form-data", headers={"Accept-Language": "zh"})
    job = db.session.scalars(select(Job)).one()
    assert page.status_code == 422 and job.status == FAILED and job.locale == "zh"
    assert "无法识别的机构 NOPE" in page.data.decode() and job.result["errors"][0]["message"] == "无法识别的机构 NOPE。"
    assert "没有导入" in job.error


def test_an_export_over_the_limit_is_a_job_its_owner_downloads(seeded, make_app, tmp_path):
    small = make_app(EXPORT_JOB_ROWS=5, FILES_DIR=str(tmp_path))
    with small.app_context():
        hr = db.session.scalar(select(User).join(User.employee).where(Employee.staff_no == "H0001"))
        hr_id = hr.id
        client = small.test_client()
        with client.session_transaction() as session:
            factories.sign_in(session, hr)
        direct = client.get("/exports/results.csv?year=2026")  # in this app a direct download would be a job too
        job_id = _job_id(direct)
        state = client.get(f"/jobs/{job_id}/status").get_json()
        file = client.get(state["next"])
        other, _user = _sign_in(small, "hr")
        refused = other.get(f"/jobs/{job_id}/download")
        listing = client.get("/jobs/", headers={"Accept-Language": "en"}).data.decode()
    big = make_app()
    with big.app_context():
        client = big.test_client()
        with client.session_transaction() as session:
            factories.sign_in(session, db.session.get(User, hr_id))
        streamed = client.get("/exports/results.csv?year=2026")
    assert state["status"] == DONE and state["next"].endswith("/download")
    assert file.status_code == 200 and "attachment" in file.headers["Content-Disposition"]
    assert file.data == streamed.data and file.data.count(b"\n") > 5
    assert refused.status_code == 404
    assert "Preparing the export" in listing and "Download" in listing


def test_a_second_click_on_run_review_shows_the_review_already_under_way(bank, make_app, tmp_path):
    web = _worker_app(make_app, tmp_path)  # nobody runs the jobs: the first stays queued
    with web.app_context():
        client, _user = _sign_in(web, "hr")
        first = client.post("/review", data={"year": "2025", "anyway": "y"})
        second = client.post("/review", data={"year": "2025", "anyway": "y"}, follow_redirects=True,
                             headers={"Accept-Language": "en"})
        other_year = client.post("/review", data={"year": "2024", "anyway": "y"})
        queued = db.session.scalars(select(Job).where(Job.kind == "review.run").order_by(Job.created_at)).all()
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/jobs/{queued[0].id}")
    assert b"already under way" in second.data and b"Running the annual review" in second.data
    assert len(queued) == 2 and queued[1].params == {"year": 2024} and other_year.status_code == 302


def _claims(first, second) -> list[tuple[bool, bool]]:
    """Two consumers (two web processes) waking for the same periodic task in three slots of 10 minutes."""
    start = 1_800_000_000 // 600 * 600
    return [(jobs.claim_slot(first, "notify_run", 10, now), jobs.claim_slot(second, "notify_run", 10, now + 1))
            for now in (start, start + 300, start + 600)]


def test_one_consumer_of_several_runs_a_periodic_task_in_each_slot(tmp_path):
    from huey import SqliteHuey

    path = str(tmp_path / "jobs.sqlite3")
    first, second = SqliteHuey("competency", filename=path), SqliteHuey("competency", filename=path)
    assert _claims(first, second) == [(True, False), (False, False), (True, False)]
    slot = 1_800_000_000 // 600
    assert not first.storage.has_data_for_key(f"slot:notify_run:{slot}")  # the old claim is gone
    assert first.storage.has_data_for_key(f"slot:notify_run:{slot + 1}")


def test_one_consumer_of_several_runs_a_periodic_task_in_each_slot_on_redis(redis_url):
    from huey import RedisHuey

    name = f"competency-test-{uuid.uuid4().hex}"
    first, second = RedisHuey(name, url=redis_url), RedisHuey(name, url=redis_url)
    try:
        assert _claims(first, second) == [(True, False), (False, False), (True, False)]
    finally:
        first.storage.flush_all()
