"""Benchmark: the annual grade review of N employees (set-based loader + pure engine + bulk insert).

    .venv/bin/python bench/review.py --employees 100000 [--repeat 3] [--database-url URL [--built]]

Builds a synthetic bank with sales, credits and a completed assessment score for everyone, then runs the
review `repeat` times (each re-run replaces the draft) and prints the timings, the median and the peak memory.
With `--built`, the database at URL already holds the bank of an earlier run (which left it there): only the
review runs. With `--fresh`, the draft is deleted (untimed) before each run, so that every run writes every
recommendation (a re-run rewrites only the ones that changed).
"""
import argparse
import random
import resource
import secrets
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import delete, insert, select  # noqa: E402
from synthetic import build_bank, fresh_app  # noqa: E402

from competency import create_app  # noqa: E402
from competency.extensions import db  # noqa: E402
from competency.models import (  # noqa: E402
    AnnualSales,
    Assessment,
    AssessmentStatus,
    CreditEntry,
    CreditSource,
    Cycle,
    CycleStatus,
    Employee,
    ReviewRun,
)
from competency.services.review import (
    runs,  # noqa: E402
    standards,  # noqa: E402
)

YEAR = 2025
STANDARDS = """position: CM_CORP
unit: 万元
standards:
  junior:       {min_sales: 300,  min_score: 40, min_credits: 20}
  intermediate: {min_sales: 800,  min_score: 60, min_credits: 30}
  senior:       {min_sales: 1500, min_score: 78, min_credits: 40, certification: AFP}
"""


def add_review_data(version_id: int, seed: int = 11) -> None:
    """Sales, two credit entries and a completed assessment (with its score) for every employee, in bulk."""
    rng = random.Random(seed)
    ids = list(db.session.scalars(select(Employee.id)))
    cycle = Cycle(code="HIST", name_zh="历史", name_en="History", period_start=date(YEAR, 1, 1), period_end=date(YEAR, 12, 31),
                  self_deadline=date(YEAR, 12, 31), supervisor_deadline=date(YEAR, 12, 31), status=CycleStatus.CLOSED, historical=True)
    db.session.add(cycle)
    db.session.flush()
    units = dict(db.session.execute(select(Employee.id, Employee.org_unit_id)).all())
    grades = dict(db.session.execute(select(Employee.id, Employee.grade)).all())
    for start in range(0, len(ids), 10000):
        chunk = ids[start:start + 10000]
        db.session.execute(insert(AnnualSales), [{"employee_id": i, "year": YEAR, "amount": Decimal(rng.randint(100, 2000))}
                                                 for i in chunk])
        db.session.execute(insert(CreditEntry), [{"employee_id": i, "amount": Decimal(rng.randint(5, 25)), "earned_on": date(YEAR, m, 1),
                                                 "source": CreditSource.ADJUSTMENT, "reason": "bench"} for i in chunk for m in (3, 9)])
        db.session.execute(insert(Assessment), [{"cycle_id": cycle.id, "employee_id": i, "version_id": version_id, "grade": grades[i],
                                                "org_unit_id": units[i], "status": AssessmentStatus.COMPLETED, "lock_version": 1,
                                                "overall_score": rng.uniform(30, 95)} for i in chunk])
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--built", action="store_true", help="the database at --database-url holds a bank already")
    parser.add_argument("--fresh", action="store_true", help="delete the draft before each run (untimed)")
    args = parser.parse_args()
    if args.built and not args.database_url:
        parser.error("--built needs --database-url")
    if args.built:
        app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SECRET_KEY": secrets.token_hex(32)})
    else:
        app = fresh_app(args.database_url)
    with app.app_context():
        started = time.perf_counter()
        if not args.built:
            bank = build_bank(args.employees)
            standards.import_standards(STANDARDS)
            add_review_data(bank["version"].id)
            print(f"built {bank['employees']} employees with sales, credits and scores in {time.perf_counter() - started:.1f}s "
                  f"({db.engine.dialect.name})")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        timings, stages = [], []
        for n in range(args.repeat):
            if args.fresh:
                db.session.execute(delete(ReviewRun).where(ReviewRun.year == YEAR))
                db.session.commit()
            started = time.perf_counter()
            run = runs.run_review(YEAR, as_of=date(2026, 1, 15), progress=lambda done, total: stages.append(done))
            timings.append(time.perf_counter() - started)
            counts = runs.action_counts(run)
            print(f"review {n + 1}: {sum(counts.values())} recommendations in {timings[-1]:.2f}s "
                  f"({', '.join(f'{a.value} {c}' for a, c in sorted(counts.items()))}; {len(stages)} progress reports)")
            stages.clear()
            db.session.expunge_all()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"median review time for {args.employees} employees: {statistics.median(timings):.2f}s; "
              f"peak memory of the process {peak / 1024:.0f} MB (after building the bank: {before / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
