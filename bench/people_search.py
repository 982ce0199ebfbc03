"""Benchmark: the person pickers' search (`/people/search`) and resolver over N employees with Chinese and English
names, for hr (everyone) and for a branch head (a team), and the query plans the database chose.

    .venv/bin/python bench/people_search.py --employees 100000 [--repeat 20] [--database-url URL] [--plans]

Builds a synthetic bank whose people have realistic names (a common surname and one or two given characters; the
English name in pinyin), then times, per kind of input, the search service as the endpoint calls it: the first
characters of a staff number, a surname, a full name, a given name's character (inside names: the scan), an English
name in lower case, and text that matches nobody (the scan through everyone, the worst case). With --plans it prints
EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (PostgreSQL) of the first search. Budget: 20 ms per search.
Last line: `RESULT name=people_search db=… employees=N median_s=<slowest input's median> …`.
"""
import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, select, text, update  # noqa: E402
from synthetic import build_bank, fresh_app, peak_rss_mb  # noqa: E402

from competency.errors import DomainError  # noqa: E402
from competency.extensions import db  # noqa: E402
from competency.models import Employee  # noqa: E402
from competency.services import people  # noqa: E402
from competency.services.access import EVERYONE  # noqa: E402
from competency.services.org import report_ids  # noqa: E402

SURNAMES = [("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("赵", "Zhao"),
            ("黄", "Huang"), ("周", "Zhou"), ("吴", "Wu"), ("徐", "Xu"), ("孙", "Sun"), ("胡", "Hu"), ("朱", "Zhu"),
            ("高", "Gao"), ("林", "Lin"), ("何", "He"), ("郭", "Guo"), ("马", "Ma"), ("罗", "Luo"), ("欧阳", "Ouyang")]
GIVEN = [("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"), ("强", "Qiang"),
         ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"), ("杰", "Jie"), ("涛", "Tao"),
         ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"), ("华", "Hua"), ("慧", "Hui"), ("鑫", "Xin"), ("婷", "Ting")]
BUDGET_S = 0.02


def rename(seed: int = 11) -> None:
    """Give everyone a realistic name, in bulk."""
    rng = random.Random(seed)
    rows = []
    for employee_id in db.session.scalars(select(Employee.id)):
        surname = rng.choice(SURNAMES)
        given = [rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))]
        rows.append({"id": employee_id, "name_zh": surname[0] + "".join(g[0] for g in given),
                     "name_en": f"{surname[1]} {''.join(g[1] for g in given)}".title()})
    for start in range(0, len(rows), 10000):
        db.session.execute(update(Employee), rows[start:start + 10000])
    db.session.commit()


def _branch_head() -> int:
    """The employee with the most people below them (a sub-branch lead in the synthetic bank)."""
    return db.session.scalar(select(Employee.supervisor_id).where(Employee.supervisor_id.is_not(None))
                             .group_by(Employee.supervisor_id).order_by(func.count().desc()).limit(1))


def _inputs(scope) -> dict:
    """What people type, from the last person within the scope: each kind of input the search answers."""
    last = db.session.execute(select(Employee.staff_no, Employee.name_zh, Employee.name_en)
                              .where(Employee.id.in_(scope)).order_by(Employee.id.desc()).limit(1)).one()
    return {"staff_no_prefix": last.staff_no[:-2], "surname": last.name_zh[0], "full_name": last.name_zh,
            "given_name_inside": last.name_zh[-1], "english_lower": last.name_en.lower()[:6], "nobody": "不存在的人"}


def _time(scope, query: str, repeat: int) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = len(people.search_people(scope, query))
        times.append(time.perf_counter() - start)
        db.session.rollback()
    return statistics.median(times), found


def _plans(scope, query: str) -> None:
    """Print the plan of every statement one search runs."""
    from sqlalchemy import event

    statements = []

    def listen(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        people.search_people(scope, query)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    db.session.rollback()
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as conn:
        for sql, params in statements:
            print(f"-- {sql.splitlines()[0][:100]} …")
            raw = conn.connection.cursor()
            raw.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql, params)
            for row in raw.fetchall():
                print("   ", row[-1] if sqlite else row[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--plans", action="store_true", help="print the query plans of each kind of search")
    args = parser.parse_args()
    app = fresh_app(args.database_url)
    with app.app_context():
        build_bank(args.employees)
        rename()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        head = _branch_head()
        scopes = {"hr": EVERYONE, "team": report_ids(head)}
        slowest = 0.0
        for scope_name, scope in scopes.items():
            for name, query in _inputs(scope).items():
                median, found = _time(scope, query, args.repeat)
                slowest = max(slowest, median)
                flag = " OVER BUDGET" if median > BUDGET_S else ""
                print(f"{scope_name:4} {name:18} {query!r:14} found={found:2} median={median * 1000:7.2f} ms{flag}")
                if args.plans:
                    _plans(scope, query)
        sample = _inputs(EVERYONE)["full_name"]
        resolve = []
        for _ in range(args.repeat):  # a name typed in full, as a person without the list types it
            start = time.perf_counter()
            try:
                people.resolve_person(EVERYONE, sample)
            except DomainError:  # a name several people bear: listed, which is an answer too
                pass
            resolve.append(time.perf_counter() - start)
            db.session.rollback()
        print(f"resolve a full name median={statistics.median(resolve) * 1000:.2f} ms")
        dialect = db.engine.dialect.name
    print(f"RESULT name=people_search db={dialect} employees={args.employees} median_s={slowest:.4f} "
          f"peak_rss_mb={peak_rss_mb():.0f}")


if __name__ == "__main__":
    main()
