"""Benchmark: the hr imports of a whole bank — employees (created, then re-imported with changes) and ratings.

    .venv/bin/python bench/imports.py [--employees 100000] [--repeat 1] [--database-url URL] [--only NAME ...]

Each measurement runs in a fresh process on a fresh database (a new SQLite file, or the PostgreSQL database emptied):
a synthetic bank is built, the CSV file written, and the import timed through the service function the CLI calls.
The employees file has everyone with a supervisor, an email and roles (so each gets an account); the ratings file
has everyone × the model's competencies × self and supervisor. Each measurement ends with the line
`RESULT name=<name> db=<sqlite|postgresql> employees=<N> median_s=<x> peak_rss_mb=<y>` (peak RSS of the measuring
processes, setup included).
"""
import argparse
import csv
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import delete, select  # noqa: E402
from synthetic import build_bank, fresh_app  # noqa: E402

from competency.extensions import db  # noqa: E402
from competency.models import Employee, OrgUnit, Position  # noqa: E402
from competency.services import imports  # noqa: E402

MEASUREMENTS = ("import_employees", "import_employees_update", "import_ratings")
EMPLOYEE_HEADER = ["staff_no", "name_zh", "name_en", "org_unit_code", "position_code", "grade", "hire_date",
                   "probation_end", "supervisor_staff_no", "email", "roles"]


def _people() -> list[tuple]:
    """(staff number, org unit code, position code, grade, supervisor's staff number) of the bank's people."""
    boss = {e.id: e.staff_no for e in db.session.execute(select(Employee.id, Employee.staff_no))}
    return [(r.staff_no, r.code, r.position, r.grade.value, boss.get(r.supervisor_id)) for r in db.session.execute(
        select(Employee.staff_no, OrgUnit.code, Position.code.label("position"), Employee.grade, Employee.supervisor_id)
        .join(OrgUnit, OrgUnit.id == Employee.org_unit_id).join(Position, Position.id == Employee.position_id)
        .order_by(Employee.id))]


def write_employees(path: Path, people: list[tuple], changed_every: int = 0) -> None:
    """The employees file; with `changed_every`, every so many people get a new English name and a higher grade."""
    higher = {"trainee": "junior", "junior": "intermediate", "intermediate": "senior", "senior": "senior"}
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(EMPLOYEE_HEADER)
        for n, (staff_no, unit, position, grade, boss) in enumerate(people):
            change = changed_every and n % changed_every == 0
            roles = "employee;supervisor" if boss is None else "employee"
            out.writerow([staff_no, f"员工{n}", f"Person {n}{' (renamed)' if change else ''}", unit, position,
                          higher[grade] if change else grade, "2018-01-01", "2018-04-01", boss or "",
                          f"{staff_no.lower()}@bench.bank", roles])


def write_ratings(path: Path, staff_nos: list[str], codes: list[str], seed: int = 3) -> int:
    """The ratings file: everyone × competencies × supervisor and self, levels 1–5; returns its rows."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("staff_no,competency_code,rater,level,comment\n")
        for n, staff_no in enumerate(staff_nos):
            buffer = io.StringIO()
            for i, code in enumerate(codes):
                for rater in ("supervisor", "self"):
                    comment = "Strong with clients" if (n + i) % 50 == 0 and rater == "supervisor" else ""
                    buffer.write(f"{staff_no},{code},{rater},{1 + (n * 7 + i * 3 + seed) % 5},{comment}\n")
                    rows += 1
            f.write(buffer.getvalue())
    return rows


def measure(name: str, employees: int, url: str | None) -> dict:
    """Build a fresh bank, write the file and time one import; the numbers as a dict."""
    app = fresh_app(url)
    folder = Path(tempfile.mkdtemp())
    with app.app_context():
        bank = build_bank(employees)
        codes = [c.code for c in bank["version"].competencies]
        people = _people()
        path = folder / f"{name}.csv"
        if name == "import_ratings":
            rows = write_ratings(path, [p[0] for p in people], codes)
        else:
            write_employees(path, people, changed_every=10 if name == "import_employees_update" else 0)
            rows = len(people)
            if name == "import_employees":
                db.session.execute(delete(Employee))
                db.session.commit()
        db.session.remove()
        data = path.read_bytes()
        reports = []
        started = time.perf_counter()
        if name == "import_ratings":
            result = imports.import_ratings(data, path.name, cycle_code="BENCH", start=date(2025, 1, 1), end=date(2025, 12, 31),
                                            progress=lambda done, total: reports.append(done))
        else:
            result = imports.import_employees(data, path.name)
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "rows": rows, "db": db.engine.dialect.name, "progress_reports": len(reports),
                "created": result.created, "updated": result.updated, "unchanged": result.unchanged, "counts": result.counts,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--database-url")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, default=list(MEASUREMENTS))
    parser.add_argument("--measure", choices=MEASUREMENTS, help=argparse.SUPPRESS)  # one run, in a child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.employees, args.database_url)))
        return
    for name in args.only:
        runs = []
        for n in range(args.repeat):
            command = [sys.executable, __file__, "--measure", name, "--employees", str(args.employees)]
            if args.database_url:
                command += ["--database-url", args.database_url]
            child = subprocess.run(command, capture_output=True, text=True)
            if child.returncode != 0:
                sys.exit(child.stderr[-3000:])
            runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
            run = runs[-1]
            print(f"{name} {n + 1}: {run['rows']} rows in {run['seconds']:.2f}s (created {run['created']}, updated "
                  f"{run['updated']}, unchanged {run['unchanged']}{', ' + str(run['counts']) if run['counts'] else ''}); "
                  f"peak RSS {run['peak_rss_mb']:.0f} MB"
                  f"{'; ' + str(run['progress_reports']) + ' progress reports' if run['progress_reports'] else ''}")
        print(f"RESULT name={name} db={runs[0]['db']} employees={args.employees} "
              f"median_s={statistics.median(r['seconds'] for r in runs):.2f} "
              f"peak_rss_mb={max(r['peak_rss_mb'] for r in runs):.0f}")


if __name__ == "__main__":
    main()
