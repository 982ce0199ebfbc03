"""Benchmark: an hr upload checked and imported as background jobs, over HTTP, while people keep signing in.

    .venv/bin/python bench/jobs.py [--employees 100000] [--rows 20000] [--database-url URL]

A synthetic bank is built (bench/synthetic.py) on a fresh database; an admin uploads an employees file of `--rows`
new people through the Imports page of an app configured as `make run` leaves it (jobs on Huey's SQLite queue, run
by the consumer thread the first request starts), the job page's status is polled every 0.2 s until the preview is
ready, then the import is confirmed and polled the same way. Meanwhile another thread signs someone in (the real
sign-in form, password checked) every 0.25 s. Prints, per job, the seconds from the click to the result, how many
distinct progress values the page saw, and the sign-ins made meanwhile with their failures and slowest time; last
lines `RESULT name=import_preview|import_apply db=… employees=N median_s=… peak_rss_mb=… rows=… progress_steps=…
sign_ins=… sign_in_failures=… sign_in_max_ms=…`.
"""
import argparse
import csv
import io
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import select  # noqa: E402
from synthetic import build_bank, fresh_app, peak_rss_mb, signed_in_client  # noqa: E402

from competency.extensions import db  # noqa: E402
from competency.models import OrgUnit, Role, User, UserRole  # noqa: E402
from competency.services.auth import hash_password  # noqa: E402

PASSWORD = "Bench@2026-sign-in"
HEADER = ["staff_no", "name_zh", "name_en", "org_unit_code", "position_code", "grade", "hire_date", "probation_end",
          "supervisor_staff_no", "email", "roles"]


def _file(rows: int, units: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(rows):
        lead = f"N{i - i % 10:07d}"
        writer.writerow([f"N{i:07d}", f"新员工{i}", f"New person {i}", units[i % len(units)], "CM_CORP", "junior", "2026-01-05",
                         "2026-04-05", "" if i % 10 == 0 else lead, "", ""])
    return out.getvalue().encode()


def _accounts(n: int) -> tuple[str, list[str]]:
    """An admin (returns its session id) and n employees' accounts with a known password (their staff numbers)."""
    people = db.session.execute(select(db.text("id, staff_no")).select_from(db.text("employee")).limit(n + 1)).all()
    hashed = hash_password(PASSWORD)
    users = [User(employee_id=pid, password_hash=hashed, active=True, role_rows=[UserRole(role=Role.EMPLOYEE)])
             for pid, _no in people[1:]]
    admin = User(employee_id=people[0][0], password_hash=hashed, active=True, role_rows=[UserRole(role=Role.ADMIN)])
    db.session.add_all([admin, *users])
    db.session.commit()
    return admin.get_id(), [no for _pid, no in people[1:]]


class SignIns(threading.Thread):
    """Signs one person after another in through the sign-in form until stopped; records failures and durations."""

    def __init__(self, app, staff_nos: list[str]):
        super().__init__(daemon=True)
        self.app, self.staff_nos, self.stop = app, staff_nos, threading.Event()
        self.durations: list[float] = []
        self.failures: list[str] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            with self.app.app_context():
                client = self.app.test_client()
                started = time.perf_counter()
                response = client.post("/login", data={"identifier": self.staff_nos[n % len(self.staff_nos)], "password": PASSWORD})
                self.durations.append(time.perf_counter() - started)
                if response.status_code != 302:
                    self.failures.append(f"{response.status_code}")
            n += 1
            self.stop.wait(0.25)


def _follow(client, response) -> tuple[float, int, str]:
    """Poll the job the response leads to until it ends: (seconds, distinct progress values seen, where it leads)."""
    match = re.search(r"/jobs/([0-9a-f]{32})", response.headers.get("Location", ""))
    if not match:
        raise SystemExit(f"no job: {response.status_code} {response.data[:300]!r}")
    seen = set()
    while True:
        state = client.get(f"/jobs/{match.group(1)}/status").get_json()
        seen.add((state["done"], state["total"]))
        if state["status"] in ("done", "failed"):
            if state["status"] == "failed":
                raise SystemExit(f"job failed: {state['error']}")
            return time.perf_counter(), len(seen), state["next"]
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    app = fresh_app(args.database_url)
    # This run's own queue file (the queue is made on first use, so the settings still apply).
    app.config.update(RATELIMIT_ENABLED=False, FILES_DIR=tempfile.mkdtemp(), JOBS_DB=f"{tempfile.mkdtemp()}/jobs.sqlite3",
                      JOBS_REDIS_URL=None, WTF_CSRF_ENABLED=False)
    with app.app_context():
        build_bank(args.employees)
        admin, staff = _accounts(50)
        units = list(db.session.scalars(select(OrgUnit.code).where(OrgUnit.code.like("B%S%"))))
        data = _file(args.rows, units)
        dialect = db.engine.dialect.name
    client = signed_in_client(app, admin)
    client.get("/")  # the first request starts the consumer thread, as under `make run`
    results = {}
    for name in ("import_preview", "import_apply"):
        signer = SignIns(app, staff)
        signer.start()
        started = time.perf_counter()
        if name == "import_preview":
            response = client.post("/imports/", data={"kind": "employees", "file": (io.BytesIO(data), "people.csv")},
                                   content_type="multipart/form-data")
            ended, steps, following = _follow(client, response)
            page = client.get(following, follow_redirects=True).data.decode()
            token = re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', page).group(1)
        else:
            response = client.post("/imports/confirm", data={"token": token})
            ended, steps, _next = _follow(client, response)
        signer.stop.set()
        signer.join()
        seconds = ended - started
        results[name] = seconds
        slowest = max(signer.durations) * 1000 if signer.durations else 0
        print(f"{name}: {args.rows} rows in {seconds:.2f}s, {steps} progress values seen; {len(signer.durations)} sign-ins "
              f"meanwhile, {len(signer.failures)} failed, slowest {slowest:.0f} ms")
        print(f"RESULT name={name} db={dialect} employees={args.employees} median_s={seconds:.2f} "
              f"peak_rss_mb={peak_rss_mb():.0f} rows={args.rows} progress_steps={steps} sign_ins={len(signer.durations)} "
              f"sign_in_failures={len(signer.failures)} sign_in_max_ms={slowest:.0f}")


if __name__ == "__main__":
    main()
