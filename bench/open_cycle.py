"""Benchmark: opening an assessment cycle for N participants (one set-based INSERT … SELECT).

    .venv/bin/python bench/open_cycle.py --employees 100000 [--repeat 3] [--database-url URL] [--accounts] [--mail]

Builds a synthetic bank in a fresh database (an SQLite file by default), then opens `repeat` cycles for
everyone and prints each timing and the median. `--accounts` gives everyone an account first, so that opening
tells every participant and supervisor (a notification each); `--mail` also gives them an address and turns e-mail
on, so that each notification queues its e-mail in the outbox (nothing is sent).
"""
import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


from sqlalchemy import insert, select  # noqa: E402
from synthetic import build_bank, fresh_app  # noqa: E402

from competency.extensions import db  # noqa: E402
from competency.models import Employee, User  # noqa: E402
from competency.services.assessments import cycles  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--accounts", action="store_true", help="give everyone an account (so opening notifies them)")
    parser.add_argument("--mail", action="store_true", help="and an e-mail address, with e-mail on (queued, not sent)")
    args = parser.parse_args()
    app = fresh_app(args.database_url)
    if args.mail:
        app.config["MAIL_SERVER"] = "127.0.0.1"
    with app.app_context():
        started = time.perf_counter()
        bank = build_bank(args.employees)
        print(f"built {bank['employees']} employees in {bank['org_units']} org units "
              f"in {time.perf_counter() - started:.1f}s ({db.engine.dialect.name})")
        if args.accounts or args.mail:
            _accounts(args.mail)
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


def _accounts(with_mail: bool) -> None:
    """An account for every employee (no usable password), with an address when e-mail is measured too."""
    ids = db.session.scalars(select(Employee.id)).all()
    db.session.execute(insert(User), [{"employee_id": i, "password_hash": f"!{i}", "active": True, "session_version": 1,
                                       "email": f"p{i}@bank.example" if with_mail else None} for i in ids])
    db.session.commit()


if __name__ == "__main__":
    main()
