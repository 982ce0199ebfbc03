"""Benchmark: every page an account with every role can open, at bank scale — server time and HTML size per page.

    .venv/bin/python bench/pages.py [--employees 100000] [--database-url URL] [--reuse] [--repeat 3]

Builds the bank of bench/analytics.py (everyone assessed, a branch head leading 5,000 people; with --reuse, measures
one built before in --database-url), adds an account holding every role, then requests every GET page of the app
through the Flask test client: pages without arguments as they are, pages of one object with the first such object
(the branch head for a person). Downloads, plotly.js, sign-out and the job pages are left out. Prints each page's
median time and size, slowest first, the pages over the budget (200 ms, 200 KB), and a last line
`RESULT name=pages db=… employees=N median_s=<slowest page> peak_rss_mb=… pages=<measured> over_budget=<count>`.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analytics import _build, _built  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from synthetic import peak_rss_mb, signed_in_client  # noqa: E402

from competency.extensions import db  # noqa: E402
from competency.models import (  # noqa: E402
    Assessment,
    Course,
    Cycle,
    Employee,
    ModelVersion,
    OrgUnit,
    Position,
    Recommendation,
    Role,
    TrainingSession,
    User,
    UserRole,
)

BUDGET_S, BUDGET_KB = 0.2, 200
SKIP = ("/static", "/vendor", "/exports/", "/jobs", "/logout", "/audit/export", "/standards/export", "/models/export")


def _first(model, *where):
    return db.session.scalar(select(func.min(model.id)).where(*where))


def _values(lead_employee: int) -> dict:
    """A value for each URL argument name: the first object of its kind."""
    values = {
        "employee_id": lead_employee, "cycle_id": _first(Cycle), "assessment_id": _first(Assessment),
        "org_unit_id": _first(OrgUnit), "unit_id": _first(OrgUnit), "position_id": _first(Position),
        "version_id": _first(ModelVersion), "course_id": _first(Course), "session_id": _first(TrainingSession),
        "user_id": _first(User), "item_id": _first(Recommendation), "year": 2025,
    }
    return {k: v for k, v in values.items() if v is not None}


def _everyone(employee_id: int) -> str:
    user = User(email="all-roles@bench.example", employee_id=employee_id, password_hash="!", active=True,
                role_rows=[UserRole(role=r) for r in Role])
    db.session.add(user)
    db.session.commit()
    return user.get_id()


def _urls(app, values: dict) -> list[str]:
    found = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.rule.startswith(SKIP) or any(rule.rule.startswith(s) for s in SKIP):
                continue
            if not set(rule.arguments) <= set(values):
                continue
            found.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    return sorted(set(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    if args.reuse:
        app, employees, _hr, _lead = _built(args.database_url)
    else:
        app, (employees, _hr, _lead) = _build(args.database_url, args.employees)
    with app.app_context():
        lead = db.session.scalar(select(User.employee_id).where(User.email == "supervisor@bench.example"))
        someone = db.session.scalar(select(func.max(Employee.id)).where(~Employee.id.in_(select(User.employee_id).where(
            User.employee_id.is_not(None)))))
        existing = db.session.scalar(select(User).where(User.email == "all-roles@bench.example"))
        user = existing.get_id() if existing else _everyone(someone)
        values = _values(lead)
        dialect = db.engine.dialect.name
        db.session.remove()
    client = signed_in_client(app, user)
    rows = []
    for url in _urls(app, values):
        client.get(url)  # warm
        times, size, status = [], 0, None
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(url, headers={"Accept-Language": "zh"})
            size = len(response.get_data())
            times.append(time.perf_counter() - started)
            status = response.status_code
        rows.append((statistics.median(times), size, status, url))
    rows.sort(reverse=True)
    for seconds, size, status, url in rows:
        over = " OVER BUDGET" if seconds > BUDGET_S or size > BUDGET_KB * 1024 else ""
        print(f"{seconds * 1000:8.1f} ms {size / 1024:8.1f} KB {status} {url}{over}")
    over_budget = [r for r in rows if r[0] > BUDGET_S or r[1] > BUDGET_KB * 1024]
    print(f"RESULT name=pages db={dialect} employees={employees} median_s={rows[0][0]:.3f} peak_rss_mb={peak_rss_mb():.0f} "
          f"pages={len(rows)} over_budget={len(over_budget)}")


if __name__ == "__main__":
    main()
