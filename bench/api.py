"""Benchmark: the API's bulk feeds at bank scale — a nightly sync of every employee, and a year of completions.

    .venv/bin/python bench/api.py [--employees 100000] [--batch 5000] [--repeat 1] [--database-url URL] [--only NAME ...]

Each measurement runs in a fresh process on a fresh database (a new SQLite file, or the PostgreSQL database emptied):
a synthetic bank is built (bench/synthetic.py), an hr service account gets a token, and the items are POSTed through
the app (its WSGI test client: routing, token check, rate limiter, schema validation, the import, the audit, JSON)
in batches. `api_employees_upsert`: every employee created through /api/v1/employees/bulk; `api_employees_sync`:
every employee sent again, one in ten with a new English name and another one in twenty with a higher grade (updates, grade
history); `api_completions`: as many completions as employees (one per person, external ids) through
/api/v1/training/completions. Each batch's SQL statements are counted — those SQLAlchemy sends and, on PostgreSQL,
the COPYs of services/bulk.py — and must be one number for every batch, the last one included (a fixed number of
queries per batch); the token's last-use UPDATE (at most once a minute, whatever the batches) is counted apart.
Each ends with `RESULT name=<name> db=<sqlite|postgresql> employees=<N> median_s=<x> peak_rss_mb=<y>`.
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import delete, event, select  # noqa: E402
from synthetic import build_bank, fresh_app  # noqa: E402

from competency.extensions import db  # noqa: E402
from competency.models import Course, CourseType, Delivery, Employee, OrgUnit, Role, User, UserRole  # noqa: E402
from competency.services import api_tokens, bulk  # noqa: E402

MEASUREMENTS = ("api_employees_upsert", "api_employees_sync", "api_completions")
HIGHER = {"trainee": "junior", "junior": "intermediate", "intermediate": "senior", "senior": "senior"}


def _token() -> str:
    """A token of an hr service account with the scopes the feeds need."""
    user = User(email="sync@bench.bank", password_hash="-", active=True, role_rows=[UserRole(role=Role.HR)])
    db.session.add(user)
    db.session.commit()
    return api_tokens.create_token(user, "bench sync", ["org:write", "training:write"])[1]


def _employee_items(keep: bool) -> list[dict]:
    """Every person of the synthetic bank as an employee item; `keep`: one in ten renamed and another one in twenty
    a grade higher (a nightly sync of people who exist), else the people are removed from the database, to be created anew."""
    units = dict(db.session.execute(select(OrgUnit.id, OrgUnit.code)).all())
    boss = dict(db.session.execute(select(Employee.id, Employee.staff_no)).all())
    items = [{"staff_no": e.staff_no, "name_zh": e.name_zh, "name_en": f"{e.name_en}{' (renamed)' if keep and n % 10 == 0 else ''}",
              "org_unit_code": units[e.org_unit_id], "position_code": "CM_CORP",
              "grade": HIGHER[e.grade.value] if keep and n % 20 == 5 else e.grade.value, "hire_date": e.hire_date.isoformat(),
              "probation_end": e.probation_end.isoformat(), "supervisor_staff_no": boss.get(e.supervisor_id)}
             for n, e in enumerate(db.session.scalars(select(Employee).order_by(Employee.id)))]
    if not keep:
        db.session.execute(delete(Employee))
        db.session.commit()
    return items


def _completion_items() -> list[dict]:
    """One completion per person of a course worth 2 credits, with an external id."""
    db.session.add(Course(code="BENCH-101", title_zh="基准课程", title_en="Bench course", type=CourseType.SALES,
                          delivery=Delivery.ONLINE, hours=2, credits=2, active=True))
    db.session.commit()
    return [{"external_id": f"lms-{n}", "staff_no": staff_no, "course_code": "BENCH-101", "completed_on": "2025-06-01",
             "result": "pass" if n % 10 else "fail", "score": 80 if n % 10 else 40}
            for n, staff_no in enumerate(db.session.scalars(select(Employee.staff_no).order_by(Employee.id)))]


def _count_statements(engine, seen: list, token_writes: list) -> None:
    """Count each statement the requests run into `seen` (the token's last-use UPDATE into `token_writes`), COPYs
    included; not those of the background jobs' consumer thread, which polls the same database meanwhile."""
    requests = threading.get_ident()  # the test client runs each request in the calling thread

    def listen(_conn, _cursor, statement, *_args):
        if threading.get_ident() == requests:
            (token_writes if statement.startswith("UPDATE api_token SET last_used_at") else seen).append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    if engine.dialect.name == "postgresql":  # COPY goes to the driver directly, past SQLAlchemy's events
        insert_rows = bulk.insert_rows

        def counted(table, *args, **kwargs):
            seen.append(f"COPY {table.name}")
            return insert_rows(table, *args, **kwargs)

        bulk.insert_rows = counted


def measure(name: str, employees: int, batch: int, url: str | None) -> dict:
    """Build a fresh bank and time POSTing its items in batches; the numbers as a dict."""
    app = fresh_app(url)
    with app.app_context():
        build_bank(employees)
        secret = _token()
        items = _completion_items() if name == "api_completions" else _employee_items(keep=name == "api_employees_sync")
        path = "/api/v1/training/completions" if name == "api_completions" else "/api/v1/employees/bulk"
        engine = db.engine
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/token", headers=headers)  # the day's first request applies due grade changes: not a batch's work
    counts, done, seen, token_writes = [], {"created": 0, "updated": 0, "unchanged": 0}, [], []
    _count_statements(engine, seen, token_writes)
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        seen.clear()
        answer = client.post(path, json={"items": items[start:start + batch]}, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"batch at {start}: {answer.status_code} {answer.get_data(as_text=True)[:2000]}")
        for key in done:
            done[key] += answer.get_json()[key]
        counts.append(len(seen))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "items": len(items), **done, "db": engine.dialect.name, "statements": counts,
            "token_writes": len(token_writes), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--database-url")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, default=list(MEASUREMENTS))
    parser.add_argument("--measure", choices=MEASUREMENTS, help=argparse.SUPPRESS)  # one run, in a child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.employees, args.batch, args.database_url)))
        return
    for name in args.only:
        runs = []
        for n in range(args.repeat):
            command = [sys.executable, __file__, "--measure", name, "--employees", str(args.employees), "--batch", str(args.batch)]
            if args.database_url:
                command += ["--database-url", args.database_url]
            child = subprocess.run(command, capture_output=True, text=True)
            if child.returncode != 0:
                sys.exit(child.stderr[-3000:] or child.stdout[-3000:])
            run = json.loads(child.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(f"{name} {n + 1}: {run['items']} items in {len(run['statements'])} batches of up to {args.batch} "
                  f"({run['created']} created, {run['updated']} updated, {run['unchanged']} unchanged) in {run['seconds']:.2f}s; "
                  f"statements per batch: {sorted(set(run['statements']))}, token last-use writes: {run['token_writes']}; "
                  f"peak RSS {run['peak_rss_mb']:.0f} MB")
        print(f"RESULT name={name} db={runs[0]['db']} employees={args.employees} "
              f"median_s={statistics.median(r['seconds'] for r in runs):.2f} "
              f"peak_rss_mb={max(r['peak_rss_mb'] for r in runs):.0f}")


if __name__ == "__main__":
    main()
