"""Benchmark: opening an assessment cycle for N participants (one set-based INSERT … SELECT).

    .venv/bin/python bench/open_cycle.py --employees 100000 [--repeat 3] [--database-url URL]

Builds a synthetic bank in a fresh database (an SQLite file by default), then opens `repeat` cycles for
everyone and prints each timing and the median.
"""
import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


from synthetic import build_bank, fresh_app  # noqa: E402

from competency.extensions import db  # noqa: E402
from competency.services.assessments import cycles  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    app = fresh_app(args.database_url)
    with app.app_context():
        started = time.perf_counter()
        bank = build_bank(args.employees)
        print(f"built {bank['employees']} employees in {bank['org_units']} org units "
              f"in {time.perf_counter() - started:.1f}s ({db.engine.dialect.name})")
        timings = []
        for n in range(args.repeat):
            cycle = cycles.save_cycle(cycles.CycleValues(
                code=f"BENCH{n}", name_zh="基准", name_en="Bench", version_id=bank["version"].id,
                period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                self_deadline=date(2026, 12, 1), supervisor_deadline=date(2026, 12, 15)))
            started = time.perf_counter()
            created = cycles.open_cycle(cycle)
            timings.append(time.perf_counter() - started)
            print(f"open cycle {n + 1}: {created} assessments in {timings[-1]:.2f}s")
        print(f"median time to open a cycle for {created} participants: {statistics.median(timings):.2f}s")


if __name__ == "__main__":
    main()
