"""Benchmark: hr's org unit × competency gap heatmap data for N employees, as the Analytics page asks for it by
default (latest completed assessment per person, no filters), and filtered to one cycle.

    .venv/bin/python bench/heatmap.py --employees 100000 [--repeat 5] [--database-url URL]

Builds a synthetic bank where everyone has a completed assessment (16 supervisor ratings), stores the results as
the app does (`stored.rebuild`, timed: the migration to stored results costs the same), then times the page's
heatmap data: the service reading the stored sums, the org units, labels and the Plotly figure. Budget ≤ 50 ms.
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

from sqlalchemy import insert, select  # noqa: E402
from synthetic import build_bank, fresh_app, peak_rss_mb, vacuum_analyze  # noqa: E402

from competency.analytics import figures  # noqa: E402
from competency.extensions import db  # noqa: E402
from competency.models import Assessment, AssessmentStatus, Competency, Cycle, CycleStatus, Employee, Rater, Rating  # noqa: E402
from competency.services.analytics import Filters  # noqa: E402
from competency.services.assessments import stored  # noqa: E402


def add_assessments(version_id: int, seed: int = 5) -> int:
    """One completed assessment with supervisor ratings (by their supervisor) on every competency for everyone, in bulk."""
    rng = random.Random(seed)
    cycle = Cycle(code="H", name_zh="热力图", name_en="Heatmap", period_start=date(2026, 1, 1), period_end=date(2026, 6, 30),
                  self_deadline=date(2026, 6, 30), supervisor_deadline=date(2026, 6, 30), self_weight=0, supervisor_weight=100,
                  status=CycleStatus.CLOSED)
    db.session.add(cycle)
    db.session.flush()
    people = db.session.execute(select(Employee.id, Employee.grade, Employee.org_unit_id, Employee.supervisor_id)).all()
    db.session.execute(insert(Assessment), [{"cycle_id": cycle.id, "employee_id": e, "version_id": version_id, "grade": g,
                                             "org_unit_id": u, "supervisor_id": s, "status": AssessmentStatus.COMPLETED,
                                             "lock_version": 1} for e, g, u, s in people])
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
    stored.rebuild()  # what the app stores when assessments complete, written at once for the bulk-loaded ones
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
        vacuum_analyze()  # as autovacuum would after a bulk load
        dialect = db.engine.dialect.name
        print(f"built {bank['employees']} assessed employees in {time.perf_counter() - started:.1f}s ({dialect})")
    for name, filters in (("heatmap_data", Filters()), ("heatmap_data_cycle", Filters(cycle_id=cycle_id))):
        times = []
        for _ in range(args.repeat):
            # a request (and its application context) each time, as each page view has: what a request reads once
            # (the org tree) is read in each, with a session of its own
            with app.test_request_context("/analytics", headers={"Accept-Language": "en"}):
                started = time.perf_counter()
                figure = figures.unit_heatmap(filters)
                times.append(time.perf_counter() - started)
        print(f"{name}: {len(figure['data'][0]['y'])} org units × {len(figure['data'][0]['x'])} competencies")
        print(f"RESULT name={name} db={dialect} employees={bank['employees']} "
              f"median_s={statistics.median(times):.4f} peak_rss_mb={peak_rss_mb():.0f}")

if __name__ == "__main__":
    main()
