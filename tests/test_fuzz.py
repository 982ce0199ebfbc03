"""Every route, as every role, with hostile inputs (hypothesis): never a 500, and a refused request writes nothing.

The crawl takes each rule of the URL map, fills its path with real ids of the demo organisation (and ids no row
can have), sends GETs with hostile query strings, and POSTs to it with each of its forms' fields (read from the
page, so every field of every form is covered) set to values drawn by hypothesis: NUL bytes, numbers beyond
any column (1e400, NaN, 10²³), text longer than any column, odd dates, markup. Runs on SQLite and PostgreSQL."""
import random
import re
from datetime import date
from html import unescape

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from competency.extensions import db
from competency.models import (
    ApiToken,
    Appeal,
    Assessment,
    Competency,
    Course,
    CreditEntry,
    Cycle,
    DutyArea,
    Employee,
    Enrolment,
    Mentoring,
    ModelVersion,
    Notification,
    OrgUnit,
    OutboxMessage,
    Recommendation,
    TrainingSession,
    User,
)

from . import factories

ROLES = {"employee": "E0001", "supervisor": "S0001", "trainer": "T0001", "hr": "H0001", "admin": "A0001"}
# sign-in: test_sign_in; plotly.js (its <version> path: test_analytics)
SKIPPED = {"static", "analytics.plotly_js", "auth.logout", "auth.login", "auth.two_factor"}
ID_MODELS = {
    "version_id": ModelVersion, "employee_id": Employee, "assessment_id": Assessment, "cycle_id": Cycle,
    "course_id": Course, "competency_id": Competency, "area_id": DutyArea, "session_id": TrainingSession,
    "enrolment_id": Enrolment, "user_id": User, "entry_id": CreditEntry, "unit_id": OrgUnit,
    "mentoring_id": Mentoring, "item_id": Recommendation, "recommendation_id": Recommendation, "appeal_id": Appeal,
    "token_id": ApiToken, "notification_id": Notification, "message_id": OutboxMessage,
}
# The natural keys in the API's paths: a real one (the first), as for ids.
KEYS = {"code": OrgUnit.code, "staff_no": Employee.staff_no}
HOSTILE = [
    "", " ", "\x00", "a\x00b", "1e400", "-1e400", "1e30", "1e999999999", "-1e-999999999", "NaN", "Infinity", "-0",
    "99999999999999999999999", "9" * 5000,
    "-2147483649", "2147483648", "0.0000001", "²", "１２", "٣", "9999-12-31", "0000-00-00", "2026-02-30", "<script>alert(1)</script>",
    "' OR 1=1 --", "=HYPERLINK(\"http://x\")", "x" * 5000, "中" * 300, "../../etc/passwd", "%s%n", "\ud7ff\ufffd",
]
# Every query parameter a view reads (the filter forms' fields and request.args); a test below keeps it complete.
QUERY_NAMES = ("page", "q", "year", "unit", "cycle", "status", "grade", "session", "position", "next", "all", "print",
               "action", "org_unit", "actor", "since", "until", "object_type", "object_id", "effective", "mode", "after",
               "before", "scope", "show")
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300))


def _sign_in(client, account) -> None:
    with client.session_transaction() as session:
        factories.sign_in(session, account)


def _account(staff_no: str) -> User:
    return db.session.scalar(select(User).join(User.employee).where(Employee.staff_no == staff_no))


def _ids() -> dict[str, int]:
    """A real id per path variable (the first row), or an id no row has; a real key of the API's records."""
    found = {name: db.session.scalar(select(func.min(model.id))) for name, model in ID_MODELS.items()}
    keys = {name: db.session.scalar(select(func.min(column))) for name, column in KEYS.items()}
    return {name: value if value is not None else 1 for name, value in found.items()} | keys


def _urls(rule, ids: dict) -> list[str]:
    """The rule's URLs: real ids and each choice of its `any(...)` parts; plus one id beyond every row."""
    values = [{}]
    for name in rule.arguments:
        converter = rule._converters[name]
        if hasattr(converter, "items"):  # any(a, b, c)
            values = [dict(v, **{name: choice}) for v in values for choice in sorted(converter.items)]
        elif name == "year":
            values = [dict(v, year=2025) for v in values]
        elif name == "job_id":  # no job exists: its pages must be 404
            values = [dict(v, job_id="0" * 32) for v in values]
        elif name == "token":  # a password reset link no one was sent
            values = [dict(v, token="x" * 43) for v in values]
        else:
            values = [dict(v, **{name: ids[name]}) for v in values]
    urls = [_build(rule, v) for v in values]
    if any(name in ID_MODELS for name in rule.arguments):
        urls.append(_build(rule, dict(values[0], **{n: 2_147_483_647 for n in rule.arguments if n in ID_MODELS})))
    return urls


def _build(rule, values: dict) -> str:
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<[^>]*:?{name}>", str(value), path)
    return path


def _form_fields(page: str) -> list[dict[str, list[str]]]:
    """The POST forms of a page: {field name: [option values, or the current value]}."""
    forms = []
    for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", page, flags=re.S | re.I):
        fields = {}
        for name, rest in re.findall(r"<(?:input|select|textarea)[^>]*?name=\"([^\"]+)\"([^>]*)>", form, flags=re.I):
            if name == "csrf_token":
                continue
            fields.setdefault(name, [])
            value = re.search(r'value="([^"]*)"', rest)
            if value:
                fields[name].append(unescape(value.group(1)))
        for name, body in re.findall(r"<select[^>]*name=\"([^\"]+)\"[^>]*>(.*?)</select>", form, flags=re.S | re.I):
            fields[name] = [unescape(v) for v in re.findall(r'<option[^>]*value="([^"]*)"', body)]
        forms.append(fields)
    return forms


def _state() -> tuple:
    """Row counts and latest changes of every table but the audit trail (which records refusals too)."""
    tables = [t for t in db.metadata.sorted_tables if t.name != "audit_event"]
    parts = []
    for table in tables:
        columns = [func.count()]
        for name in ("updated_at", "lock_version", "status", "session_version"):
            if name in table.c:
                column = table.c[name]
                columns.append(func.max(column) if name == "updated_at" else func.count(func.distinct(column)))
        parts.append((table.name, tuple(db.session.execute(select(*columns).select_from(table)).one())))
    return tuple(parts)


def _refused(response) -> bool:
    body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    return response.status_code >= 400 or "flash-error" in body or 'class="error"' in body


def _check(response, what: str) -> None:
    assert response.status_code != 500, what
    assert response.status_code < 500, what


@pytest.mark.parametrize("role", sorted(ROLES))
@settings(max_examples=1, deadline=None, database=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])  # a failure names the request; shrinking a whole crawl takes too long
@given(data=st.data())
def test_no_route_gives_a_500_and_refusals_write_nothing(seeded, client, role, data):
    # A crawl makes thousands of choices: drawn one by one they overflow hypothesis's buffer, which then throws the
    # example away and crawls again, and again. So hypothesis draws a pool of hostile texts and a seed, and the crawl
    # picks from them (a failure names the request; hypothesis reports the pool and the seed).
    texts = HOSTILE + data.draw(st.lists(hostile_text, min_size=40, max_size=40), label="texts")
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    account = _account(ROLES[role])
    client.get("/")  # the day's first request applies due grade changes: before the state is taken
    ids = _ids()
    rules = [r for r in seeded.url_map.iter_rules() if r.endpoint not in SKIPPED]
    for rule in sorted(rules, key=lambda r: r.rule):
        for url in _urls(rule, ids):
            _sign_in(client, account)
            if "GET" in rule.methods:
                # the listed hostile values (cheap to draw: a whole crawl must fit in one hypothesis example)
                query = {k: rng.choice(texts if k == "q" else HOSTILE) for k in QUERY_NAMES}
                _check(client.get(url), f"GET {url}")
                _check(client.get(url, query_string=query), f"GET {url} {query!r}")
                page = client.get(url)
                html = page.status_code == 200 and page.mimetype == "text/html"
                forms = _form_fields(page.get_data(as_text=True)) if html else []
            else:
                forms = [{"reason": [], "text": [], "comment": [], "submit": ["1"]}]
            if "POST" not in rule.methods:
                continue
            for fields in forms or [{}]:
                _sign_in(client, account)
                sent = {name: rng.choice(choices) if choices and rng.random() < 0.5 else rng.choice(texts)
                        for name, choices in fields.items()}
                before = _state()
                response = client.post(url, data=sent)
                _check(response, f"POST {url} {sent!r}")
                if _refused(response):
                    db.session.expire_all()
                    assert _state() == before, f"POST {url} was refused ({response.status_code}) but wrote: {sent!r}"


def test_the_crawl_sends_every_query_parameter_a_view_reads():
    from pathlib import Path

    source = "\n".join(p.read_text(encoding="utf-8") for p in Path("competency").rglob("*.py"))
    assert set(re.findall(r'request\.args\.get\("(\w+)"', source)) <= set(QUERY_NAMES)


def test_the_crawl_knows_every_path_variable(seeded):
    """A new route with an id the crawl cannot fill fails here, so the crawl keeps covering every route."""
    assert set(name for r in seeded.url_map.iter_rules() for name in r.arguments
               if not hasattr(r._converters[name], "items")) <= set(ID_MODELS) | set(KEYS) | {"year", "filename", "job_id", "version",
                                                                                       "token"}


def _complete_forms(course) -> list[tuple[str, dict, str]]:
    """(url, a complete valid form, the numeric field to spoil) of the course, requirements and standards forms."""
    course_form = {"code": course.code, "title_zh": course.title_zh, "title_en": course.title_en, "type": course.type.value,
                   "delivery": course.delivery.value, "hours": "8", "credits": "2", "active": "y"}
    for i, row in enumerate(course.competencies):
        course_form |= {f"competencies-{i}-competency_code": row.competency_code, f"competencies-{i}-up_to_level": str(row.up_to_level)}
    requirements = {"trainee": "10", "junior": "20", "intermediate": "30", "senior": "40"}
    standards = {"unit": "万元"} | {f"{g}_{k}": v for g in ("junior", "intermediate", "senior")
                                   for k, v in (("sales", "100"), ("score", "60"), ("credits", "20"))}
    return [(f"/catalogue/{course.id}", course_form, "credits"), ("/credits/requirements", requirements, "junior"),
            ("/standards", standards, "senior_sales")]


# 1e999999999: beyond the decimal context's exponents (any arithmetic on it overflows) and no int() can be built of it
@pytest.mark.parametrize("value", ["1e30", "1e400", "-1e400", "NaN", "Infinity", "123456789012345678", "1e999999999"])
def test_numbers_beyond_a_column_are_form_errors_and_leave_the_page_working(seeded, client, login_as, value):
    login_as("hr")
    course = db.session.scalar(select(Course).order_by(Course.id))
    for url, form, field in _complete_forms(course):
        assert client.post(url, data=form).status_code == 302, url  # the complete form is accepted as it is
        before = _state()
        response = client.post(url, data=form | {field: value}, headers={"Accept-Language": "en"})
        assert response.status_code == 200 and 'class="error"' in response.get_data(as_text=True), (url, value)
        assert _state() == before, (url, value)
        assert client.get(url).status_code == 200


# --- every import column -------------------------------------------------------------------------

IMPORT_COLUMNS = {
    "org_units": ["code", "parent_code", "kind", "name_zh", "name_en"],
    "employees": ["staff_no", "name_zh", "name_en", "org_unit_code", "position_code", "grade", "hire_date", "probation_end",
                  "supervisor_staff_no", "email", "roles"],
    "courses": ["code", "title_zh", "title_en", "type", "delivery", "hours", "credits", "competencies"],
    "training": ["staff_no", "course_code", "completed_on", "result", "score"],
    "ratings": ["staff_no", "competency_code", "rater", "level", "comment"],
    "sales": ["staff_no", "year", "amount"],
}
# Values of the demo organisation, so that many rows get past the lookups to the checks behind them.
PLAUSIBLE = ["E0001", "S0001", "HQ", "BJ", "CM_CORP", "junior", "senior", "2026-01-31", "2025-06-30", "pass", "fail",
             "self", "supervisor", "3", "100.5", "K1", "S1:3", "head_office", "sub_branch", "classroom", "law",
             "employee;supervisor", "x@demo.bank", "2025", "12"]
cell = st.one_of(hostile_text, st.sampled_from(PLAUSIBLE))


def _csv(columns: list[str], rows: list[dict]) -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("kind", sorted(IMPORT_COLUMNS))
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
@given(data=st.data())
def test_every_import_column_takes_hostile_values_without_a_crash_or_a_half_import(seeded, kind, data):
    from competency.services.imports import IMPORTERS, ImportFailed

    columns = IMPORT_COLUMNS[kind]
    rows = data.draw(st.lists(st.fixed_dictionaries({c: cell for c in columns}), min_size=1, max_size=3))
    options = {"cycle_code": data.draw(cell)[:40] or "X", "start": date(2025, 1, 1), "end": date(2025, 12, 31)} \
        if kind == "ratings" else {}
    before = _state()
    try:
        IMPORTERS[kind](_csv(columns, rows), f"{kind}.csv", **options)
    except ImportFailed as refused:
        assert refused.errors and all(str(e) for e in refused.errors)
        db.session.rollback()
        assert _state() == before, f"{kind} refused {rows!r} but wrote"
    db.session.rollback()


# A number beyond the decimal context's exponents in each numeric column of a file: any arithmetic on it overflows and
# int() of it builds a billion digits (a worker lost for hours); the row is refused like any number too large.
HUGE = "1e999999999"
HUGE_CELLS = [
    ("sales", f"S0001,{HUGE},100", "year"), ("sales", f"S0001,2025,{HUGE}", "amount"), ("sales", f"S0001,2025,-{HUGE}", "amount"),
    ("training", f"S0001,LAW-102,2025-06-30,pass,{HUGE}", "score"), ("ratings", f"S0001,K1,self,{HUGE},", "level"),
    ("courses", f"NEW-1,新课,New,law,online,{HUGE},1,K1:3", "hours"), ("courses", f"NEW-1,新课,New,law,online,4,{HUGE},K1:3", "credits"),
    ("courses", f"NEW-1,新课,New,law,online,4,1,K1:{HUGE}", "competencies"),
    ("sales", f"S0001,{'9' * 5000},100", "year"), ("courses", f"NEW-1,新课,New,law,online,4,1,K1:{'9' * 5000}", "competencies"),
]


@pytest.mark.parametrize(("kind", "row", "column"), HUGE_CELLS, ids=[f"{k}-{c}-{n}" for n, (k, _r, c) in enumerate(HUGE_CELLS)])
def test_a_number_beyond_any_in_a_file_is_a_row_error(seeded, kind, row, column):
    from competency.services.imports import IMPORTERS, ImportFailed

    options = {"cycle_code": "H2018", "start": date(2018, 1, 1), "end": date(2018, 12, 31)} if kind == "ratings" else {}
    before = _state()
    with pytest.raises(ImportFailed) as refused:
        IMPORTERS[kind](f"{','.join(IMPORT_COLUMNS[kind])}\n{row}\n".encode(), f"{kind}.csv", **options)
    assert [e.column for e in refused.value.errors] == [column]
    db.session.rollback()
    assert _state() == before


@pytest.mark.parametrize("weight", [HUGE, f"-{HUGE}"])
def test_a_model_or_standards_file_with_a_number_beyond_any_is_refused(seeded, weight):
    import yaml

    from competency.services.imports import ImportFailed
    from competency.services.ksa import importer
    from competency.services.review import standards

    data = factories.model_data()
    data["competencies"][0]["weight"] = weight
    data["competencies"][1]["descriptors"] = {weight: {"zh": "x", "en": "x"}}
    before = _state()
    with pytest.raises(ImportFailed):
        importer.import_file(yaml.safe_dump(data, allow_unicode=True).encode(), "model.yaml")
    grades = {g: {"min_sales": weight, "min_score": 60, "min_credits": weight} for g in ("junior", "intermediate", "senior")}
    with pytest.raises(ImportFailed):
        standards.import_standards(yaml.safe_dump({"position": "CM_CORP", "unit": "万元", "standards": grades}))
    db.session.rollback()
    assert _state() == before


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
@given(field=st.sampled_from(["name_zh", "name_en", "code", "weight", "cluster", "category"]), value=cell)
def test_a_model_file_with_a_hostile_value_is_refused_or_read_never_a_crash(seeded, field, value):
    import yaml

    from competency.services.imports import ImportFailed
    from competency.services.ksa import importer

    data = factories.model_data()
    data["competencies"][0][field] = value
    before = _state()
    try:
        importer.import_file(yaml.safe_dump(data, allow_unicode=True).encode(), "model.yaml")
    except ImportFailed:
        db.session.rollback()
        assert _state() == before


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
@given(key=st.sampled_from(["min_sales", "min_score", "min_credits", "certification"]), value=cell)
@example(key="certification", value="x" * 200)  # longer than the column: PostgreSQL refuses what SQLite keeps
def test_a_standards_file_with_a_hostile_value_is_refused_or_read_never_a_crash(seeded, key, value):
    import yaml

    from competency.services.imports import ImportFailed
    from competency.services.review import standards

    grades = {g: {"min_sales": 100, "min_score": 60, "min_credits": 20} for g in ("junior", "intermediate", "senior")}
    grades["senior"][key] = value
    before = _state()
    try:
        standards.import_standards(yaml.safe_dump({"position": "CM_CORP", "unit": "万元", "standards": grades},
                                                  allow_unicode=True))
    except ImportFailed:
        db.session.rollback()
        assert _state() == before
