"""Benchmark: hr's Analytics page (every chart, default filters), a branch head's team analytics and both
dashboards, over HTTP.

    .venv/bin/python bench/analytics.py --employees 100000 [--repeat 5] [--database-url URL] [--reuse]

With --reuse, a database this benchmark built before is migrated to the current schema and measured again, without
building the bank anew (a PostgreSQL bank of 100,000 people takes minutes to build).

Builds a synthetic bank where everyone has a completed assessment (bench/heatmap.py), makes the head of branch 0
the supervisor of its team leads (so about employees / 20 people report to them, 5,000 at 100,000), then requests
/analytics as hr and /team/analytics as that branch head through the Flask test client, reading the whole page.
Budgets at 100,000 people: the hr page ≤ 1 s, the team page ≤ 500 ms, dashboards ≤ 200 ms and 200 KB.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from heatmap import add_assessments  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402
from synthetic import build_bank, fresh_app, peak_rss_mb, signed_in_client, vacuum_analyze  # noqa: E402

from competency.extensions import db  # noqa: E402
from competency.models import Employee, OrgUnit, Role, User, UserRole  # noqa: E402
from competency.services import access  # noqa: E402


def _account(employee_id: int, role: Role) -> User:
    user = User(email=f"{role.value}@bench.example", employee_id=employee_id, password_hash="!", active=True,
                role_rows=[UserRole(role=Role.EMPLOYEE), UserRole(role=role)])
    db.session.add(user)
    db.session.flush()
    return user


def _branch_head() -> int:
    """The first team lead of branch 0 becomes its head: the other leads of the branch report to them."""
    branch = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "B0"))
    units = select(OrgUnit.id).where(OrgUnit.parent_id == branch)
    leads = db.session.scalars(select(Employee.id).where(Employee.org_unit_id.in_(units), Employee.supervisor_id.is_(None))
                               .order_by(Employee.id)).all()
    head = leads[0]
    db.session.execute(update(Employee).where(Employee.id.in_(leads[1:])).values(supervisor_id=head))
    return head


def _time(client, url: str, repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, headers={"Accept-Language": "zh"})
        body = response.get_data()
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        size = len(body)
    return statistics.median(times), size


def _built(url: str) -> tuple:
    """An app on a bank this benchmark built before, migrated to the current schema: (app, employees, hr, lead)."""
    import secrets

    from flask_migrate import upgrade

    from competency import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(32)})
    with app.app_context():
        upgrade()
        vacuum_analyze()
        accounts = {u.email: u.get_id() for u in db.session.scalars(select(User).where(User.email.like("%@bench.example")))}
        employees = db.session.scalar(select(func.count(Employee.id)))
        db.session.remove()
    return app, employees, accounts[f"{Role.HR.value}@bench.example"], accounts[f"{Role.SUPERVISOR.value}@bench.example"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url")
    parser.add_argument("--reuse", action="store_true", help="measure a bank this benchmark built before in --database-url")
    args = parser.parse_args()
    if args.reuse:
        app, employees, hr, lead = _built(args.database_url)
    else:
        app, (employees, hr, lead) = _build(args.database_url, args.employees)
    for name, user, url in (("analytics_page", hr, "/analytics"), ("team_analytics", lead, "/team/analytics"),
                            ("hr_dashboard", hr, "/"), ("lead_dashboard", lead, "/")):
        client = signed_in_client(app, user)
        client.get(url)  # warm: templates compiled, published model cached
        median, size = _time(client, url, args.repeat)
        print(f"{name}: {size / 1024:.0f} KB of HTML")
        print(f"RESULT name={name} db={'postgresql' if (args.database_url or '').startswith('postgresql') else 'sqlite'} "
              f"employees={employees} median_s={median:.3f} peak_rss_mb={peak_rss_mb():.0f}")


def _build(url: str | None, employees: int) -> tuple:
    """A new synthetic bank with an hr account and a branch head's: (app, (employees, hr, lead))."""
    app = fresh_app(url)
    with app.app_context():
        started = time.perf_counter()
        bank = build_bank(employees)
        add_assessments(bank["version"].id)
        head = _branch_head()
        last = db.session.scalar(select(func.max(Employee.id)))  # hr: someone outside branch 0
        hr, lead = _account(last, Role.HR).get_id(), _account(head, Role.SUPERVISOR).get_id()
        db.session.commit()
        team = db.session.scalar(select(func.count()).select_from(access.report_ids(head).subquery()))
        vacuum_analyze()
        print(f"built {bank['employees']} assessed employees in {time.perf_counter() - started:.1f}s ({db.engine.dialect.name}); "
              f"the branch head leads {team}")
        db.session.remove()
    return app, (bank["employees"], hr, lead)


if __name__ == "__main__":
    main()
