"""Benchmark: hr downloads results.csv, results.xlsx and gaps.xlsx for everyone, over HTTP, for N employees.

    .venv/bin/python bench/exports.py --employees 100000 [--repeat 3] [--database-url URL]

Builds, in a process of its own, a synthetic bank where everyone has a completed assessment (16 supervisor
ratings each, so 1.6 M result rows at 100,000 people) and an hr account, once. Then each export runs in a fresh
Python process on that database: it signs in as hr through the Flask test client, downloads the file `repeat`
times reading the whole body chunk by chunk (the test client does not buffer it), and prints

    RESULT name=export_results_csv db=sqlite employees=100000 median_s=… peak_rss_mb=…

where peak_rss_mb is that process's peak resident memory (ru_maxrss): the application and its imports (the
baseline, printed before) plus whatever the download needed. A fresh process per export, started by a parent that
imports nothing heavy (a child starts with its parent's peak as its own), keeps one export's peak from hiding the
next one's and keeps the building of the bank out of the figure.
Exports of more than COMPETENCY_EXPORT_JOB_ROWS rows (50,000) are written by a background job, as on the site: the
timing runs from the click to the last byte of the file downloaded from the job (the consumer thread runs in the same
process, so the peak memory covers the job too).
Budgets at 100,000 people: CSV ≤ 30 s, .xlsx ≤ 90 s, peak RSS ≤ 300 MB.
"""
import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

EXPORTS = {"export_results_csv": "/exports/results.csv", "export_results_xlsx": "/exports/results.xlsx",
           "export_gaps_xlsx": "/exports/gaps.xlsx"}
HR_EMAIL = "hr@bench.example"


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(employees: int, url: str) -> None:
    """Fill a new database with the synthetic bank, everyone assessed, and an hr account."""
    from heatmap import add_assessments
    from sqlalchemy import text
    from synthetic import build_bank, fresh_app

    from competency.extensions import db
    from competency.models import Role, User, UserRole

    app = fresh_app(url)
    with app.app_context():
        started = time.perf_counter()
        bank = build_bank(employees)
        add_assessments(bank["version"].id)
        db.session.add(User(email=HR_EMAIL, password_hash="!", active=True, role_rows=[UserRole(role=Role.HR)]))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"built {bank['employees']} assessed employees in {time.perf_counter() - started:.1f}s ({db.engine.dialect.name}), "
              f"builder peak rss {peak_rss_mb():.0f} MB", flush=True)


def measure(name: str, url: str, employees: int, repeat: int) -> None:
    """Download one export `repeat` times as hr, reading every byte; print the timings and the RESULT line."""
    import secrets

    from sqlalchemy import select
    from synthetic import signed_in_client

    from competency import create_app
    from competency.extensions import db
    from competency.models import User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(32), "JOBS_REDIS_URL": None,
                      "JOBS_WORKER": "thread", "JOBS_DB": f"{tempfile.mkdtemp()}/jobs.sqlite3", "FILES_DIR": tempfile.mkdtemp()})
    with app.app_context():
        session_id = db.session.scalar(select(User).where(User.email == HR_EMAIL)).get_id()
        dialect = db.engine.dialect.name
    client = signed_in_client(app, session_id)
    print(f"{name}: baseline rss {peak_rss_mb():.0f} MB (application loaded)", flush=True)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(EXPORTS[name], buffered=False)
        if response.status_code == 302:  # over COMPETENCY_EXPORT_JOB_ROWS: a background job writes it, then it is downloaded
            response = _download_when_ready(client, response.headers["Location"])
        assert response.status_code == 200, response.status_code
        size = sum(len(chunk) for chunk in response.iter_encoded())
        response.close()
        times.append(time.perf_counter() - started)
        print(f"{name}: {times[-1]:.1f}s, {size / 1e6:.1f} MB", flush=True)
    print(f"RESULT name={name} db={dialect} employees={employees} median_s={statistics.median(times):.2f} "
          f"peak_rss_mb={peak_rss_mb():.0f}", flush=True)


def _download_when_ready(client, job_page: str):
    """As the job page does: poll the job's status every 0.2 s until it is done, then download the file."""
    status = job_page.rstrip("/") + "/status"
    while True:
        state = client.get(status).get_json()
        if state["status"] == "failed":
            raise SystemExit(f"export job failed: {state['error']}")
        if state["status"] == "done":
            return client.get(state["next"], buffered=False)
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="PostgreSQL to use (its schema is dropped); a new SQLite file by default")
    parser.add_argument("--step", choices=["build", *EXPORTS], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "build":
        build(args.employees, args.database_url)
    elif args.step:
        measure(args.step, args.database_url, args.employees, args.repeat)
    else:
        # This process imports nothing heavy: a child inherits its parent's peak RSS as its own starting ru_maxrss.
        url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        for step in ["build", *EXPORTS]:
            subprocess.run([sys.executable, __file__, "--step", step, "--database-url", url, "--employees", str(args.employees),
                            "--repeat", str(args.repeat)], check=True)


if __name__ == "__main__":
    main()
