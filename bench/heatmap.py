"""Benchmark: hr's org unit × competency gap heatmap for N employees, against the bare SQL aggregate.

    .venv/bin/python bench/heatmap.py --employees 100000 [--repeat 5] [--database-url URL]

Builds a synthetic bank where everyone has a completed assessment (16 supervisor ratings), then times, in the
same run, (a) the bare aggregate: the heatmap's SQL executed directly on the connection, and (b) the page's data:
the same aggregate through the service, plus the org units, labels and the Plotly figure. Budget: (b) ≤ 1.5 × (a).
"""
import argparse
import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import insert, select, text  # noqa: E402
from synthetic import build_bank, fresh_app  # noqa: E402

from competency.analytics import figures  # noqa: E402
from competency.extensions import db  # noqa: E402
from competency.models import Assessment, AssessmentStatus, Competency, Cycle, CycleStatus, Employee, Rater, Rating  # noqa: E402
from competency.services.analytics import Filters, unit_gap_query  # noqa: E402


def add_assessments(version_id: int, seed: int = 5) -> int:
    """One completed assessment with supervisor ratings on every competency for everyone, in bulk."""
    rng = random.Random(seed)
    cycle = Cycle(code="H", name_zh="热力图", name_en="Heatmap", period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                  self_deadline=date(2026, 6, 30), supervisor_deadline=date(2026, 6, 30), self_weight=0, supervisor_weight=100,
                  status=CycleStatus.CLOSED)
    db.session.add(cycle)
    db.session.flush()
    people = db.session.execute(select(Employee.id, Employee.grade, Employee.org_unit_id)).all()
    db.session.execute(insert(Assessment), [{"cycle_id": cycle.id, "employee_id": e, "version_id": version_id, "grade": g,
                                             "org_unit_id": u, "status": AssessmentStatus.COMPLETED, "lock_version": 1}
                                            for e, g, u in people])
    assessments = db.session.execute(select(Assessment.id).where(Assessment.cycle_id == cycle.id)).scalars().all()
    competencies = db.session.scalars(select(Competency.id).where(Competency.version_id == version_id)).all()
    batch = []
    for assessment_id in assessments:
        for comp_id in competencies:
            batch.append({"assessment_id": assessment_id, "competency_id": comp_id, "rater": Rater.SUPERVISOR,
                          "level": rng.randint(1, 5), "comment": ""})
        if len(batch) >= 50000:
            db.session.execute(insert(Rating), batch)
            batch = []
    if batch:
        db.session.execute(insert(Rating), batch)
    db.session.commit()
    return cycle.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    app = fresh_app(args.database_url)
    with app.app_context():
        started = time.perf_counter()
        bank = build_bank(args.employees)
        cycle_id = add_assessments(bank["version"].id)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"built {bank['employees']} assessed employees in {time.perf_counter() - started:.1f}s ({db.engine.dialect.name})")
        filters, scope = Filters(cycle_id=cycle_id), select(Employee.id)
        sql = str(unit_gap_query(filters, scope).compile(db.engine, compile_kwargs={"literal_binds": True}))
        bare, page = [], []
        with app.test_request_context("/analytics", headers={"Accept-Language": "en"}):
            for _ in range(args.repeat):
                started = time.perf_counter()
                cells = db.session.connection().exec_driver_sql(sql).fetchall()
                bare.append(time.perf_counter() - started)
                started = time.perf_counter()
                figure = figures.unit_heatmap(filters, scope)
                page.append(time.perf_counter() - started)
                db.session.rollback()
        rows = len(figure["data"][0]["y"])
        ratio = statistics.median(page) / statistics.median(bare)
        print(f"bare SQL aggregate: median {statistics.median(bare):.2f}s ({len(cells)} cells)")
        print(f"page data (service + figure): median {statistics.median(page):.2f}s ({rows} org units × "
              f"{len(figure['data'][0]['x'])} competencies)")
        print(f"ratio page/bare: {ratio:.2f} (budget 1.5) — {'within budget' if ratio <= 1.5 else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
