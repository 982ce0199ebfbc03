"""Benchmark: `flask notify run` creating the reminders of a bank whose assessment cycle is due tomorrow.

    .venv/bin/python bench/notify.py --employees 100000 [--repeat 3] [--database-url URL]

Builds bench/synthetic.py's bank, gives everyone an active account (team leads the supervisor role), opens a cycle
for everyone whose self-assessment deadline is tomorrow, then runs `notify run` (services/notifications/runner.py:
the reminders, the outbox, pruning) `repeat` times, each in a fresh process so that its peak memory is the run's own
(about 100 MB of it is the loaded application). Between runs the reminders made are deleted (untimed), so that each
run creates them all: one reminder per participant, plus whatever else the rules find due. E-mail is off (no
MAIL_SERVER), as in the embedded default. Budget at 100,000 people: < 30 s and < 500 MB, on SQLite and PostgreSQL.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import delete, func, insert, select  # noqa: E402
from synthetic import build_bank, fresh_app, peak_rss_mb  # noqa: E402

from competency.extensions import db  # noqa: E402
from competency.models import Employee, Notification, Role, User, UserRole  # noqa: E402
from competency.services.assessments import cycles  # noqa: E402
from competency.timeutil import bank_today  # noqa: E402


def _accounts() -> int:
    """An active account for every employee; team leads (who have reports) hold the supervisor role too."""
    people = db.session.execute(select(Employee.id, Employee.supervisor_id)).all()
    leads = {supervisor for _id, supervisor in people if supervisor is not None}
    users = [{"id": i, "employee_id": i, "email": None, "password_hash": "!", "active": True} for i, _s in people]
    roles = [{"user_id": i, "role": Role.EMPLOYEE} for i, _s in people] + [{"user_id": i, "role": Role.SUPERVISOR} for i in leads]
    for rows, table in ((users, User), (roles, UserRole)):
        for start in range(0, len(rows), 10000):
            db.session.execute(insert(table), rows[start:start + 10000])
    return len(users)


def build(url: str | None, employees: int) -> str:
    """A new bank with accounts and a cycle whose self-assessments are due tomorrow; returns its database URL."""
    app = fresh_app(url)
    with app.app_context():
        started = time.perf_counter()
        bank = build_bank(employees)
        _accounts()
        today = bank_today()  # the day the reminders count from (the bank's, as runner.run's)
        tomorrow = today + timedelta(days=1)
        cycle = cycles.save_cycle(cycles.CycleValues(
            code="DUE", name_zh="年度评估", name_en="Annual appraisal", version_id=bank["version"].id,
            period_start=date(today.year, 1, 1), period_end=date(today.year, 12, 31),
            self_deadline=tomorrow, supervisor_deadline=tomorrow + timedelta(days=14)))
        opened = cycles.open_cycle(cycle)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        print(f"built {bank['employees']} employees with accounts and a cycle of {opened} due {tomorrow} "
              f"in {time.perf_counter() - started:.1f}s ({db.engine.dialect.name})")
        url = str(db.engine.url.render_as_string(hide_password=False))
    return url


def run_once(url: str) -> None:
    """One `notify run` in this process: prints {"seconds", "peak_rss_mb", "created"} as JSON."""
    import secrets

    from competency import create_app
    from competency.services.notifications import runner

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(32)})
    with app.app_context():
        started = time.perf_counter()
        report = runner.run()
        seconds = time.perf_counter() - started
        print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(), "created": report.reminders}))


def _forget_reminders(url: str) -> None:
    """Delete the reminders a run made (untimed), so that the next run creates them again."""
    import secrets

    from competency import create_app
    from competency.services.notifications.reminders import REMINDERS

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(32)})
    with app.app_context():
        db.session.execute(delete(Notification).where(Notification.kind.in_(list(REMINDERS))))
        db.session.commit()
        left = db.session.scalar(select(func.count(Notification.id)))
        print(f"reminders deleted; {left} other notifications kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--run-once", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_once:
        run_once(args.run_once)
        return
    url = build(args.database_url, args.employees)
    timings, peaks = [], []
    for n in range(args.repeat):
        if n:
            _forget_reminders(url)
        done = subprocess.run([sys.executable, __file__, "--run-once", url], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        timings.append(result["seconds"])
        peaks.append(result["peak_rss_mb"])
        created = {k: v for k, v in result["created"].items() if v}
        print(f"notify run {n + 1}: {result['seconds']:.2f}s, {result['peak_rss_mb']:.0f} MB, created {created}")
    print(f"RESULT name=notify_run db={'postgresql' if url.startswith('postgresql') else 'sqlite'} employees={args.employees} "
          f"median_s={statistics.median(timings):.3f} peak_rss_mb={max(peaks):.0f}")


if __name__ == "__main__":
    main()
