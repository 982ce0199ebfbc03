"""Factories with overridable defaults; they add to the session and flush, the test commits."""
import itertools
import json
from contextlib import contextmanager
from datetime import date
from html.parser import HTMLParser

from sqlalchemy import event

from competency.extensions import db
from competency.models import Employee, EmployeeStatus, Grade, OrgUnit, OrgUnitKind, Position, User, UserRole
from competency.services.auth import hash_password

_seq = itertools.count(1)
PASSWORD = "correct-horse-1"


def org_unit(**fields) -> OrgUnit:
    n = next(_seq)
    values = dict(code=f"U{n}", kind=OrgUnitKind.SUB_BRANCH, name_zh=f"支行{n}", name_en=f"Sub-branch {n}")
    values.update(fields)
    unit = OrgUnit(**values)
    db.session.add(unit)
    db.session.flush()
    return unit


def position(code="CM_CORP", **fields) -> Position:
    found = db.session.query(Position).filter_by(code=code).one_or_none()
    if found:
        return found
    values = dict(code=code, name_zh="公司客户经理", name_en="Corporate customer manager")
    values.update(fields)
    pos = Position(**values)
    db.session.add(pos)
    db.session.flush()
    return pos


def employee(**fields) -> Employee:
    n = next(_seq)
    values = dict(
        staff_no=f"E{n:05d}", name_zh=f"员工{n}", name_en=f"Employee {n}", grade=Grade.JUNIOR,
        hire_date=date(2020, 1, 1), probation_end=date(2020, 4, 1), status=EmployeeStatus.ACTIVE,
    )
    values.update(fields)
    if "org_unit" not in values and "org_unit_id" not in values:
        values["org_unit"] = org_unit()
    if "position" not in values and "position_id" not in values:
        values["position"] = position()
    person = Employee(**values)
    db.session.add(person)
    db.session.flush()
    return person


DEMO_TWO_FACTOR_SECRET = "JBSWY3DPEHPK3PXPCOMPETENCYDEMO23"  # seeds/demo.yaml
_used_steps: dict[str, int] = {}


def totp_code(account: str, secret: str = DEMO_TWO_FACTOR_SECRET) -> str:
    """A code for a sign-in of this account: each time step works once per account, so a second sign-in within
    the same 30 s uses the next step's code (accepted for clock drift) or waits for it."""
    import time

    import pyotp

    totp = pyotp.TOTP(secret)
    step = max(int(time.time()) // totp.interval, _used_steps.get(account, -1) + 1)
    while step > int(time.time()) // totp.interval + 1:
        time.sleep(1)
    _used_steps[account] = step
    return totp.at(step * totp.interval)


def sign_in(session, account) -> None:
    """Make a test client's session that of the account after a full sign-in (second factor included)."""
    import time

    now = int(time.time())
    session.update(_user_id=account.get_id(), _fresh=True, auth_at=now, seen_at=now, mfa=True)


def user(roles=("employee",), employee_=None, email=None, password=PASSWORD, with_employee=True, **employee_fields) -> User:
    if employee_ is None and with_employee:
        employee_ = employee(**employee_fields)
    account = User(
        email=email, employee=employee_, password_hash=hash_password(password, "pbkdf2:sha256:1000"), active=True,
        role_rows=[UserRole(role=r) for r in roles],
    )
    db.session.add(account)
    db.session.flush()
    return account


def model_data(position_code="CM_CORP", codes=("K1", "S1")) -> dict:
    """A complete, publishable competency model in the YAML structure."""
    categories = {"K": "knowledge", "S": "skills", "A": "general"}
    return {
        "position": position_code,
        "name_zh": "测试模型",
        "name_en": "Test model",
        "duty_areas": [{"code": "D1", "name_zh": "客户开发", "name_en": "Development", "tasks_zh": ["拜访"], "tasks_en": ["Visiting"]}],
        "clusters": [{"code": cluster, "category": cat, "name_zh": f"类{cat}", "name_en": f"Cluster {cat}"}
                     for cat, cluster in categories.items()],
        "competencies": [
            {
                "code": code, "category": code[0], "cluster": categories[code[0]],
                "name_zh": f"能力{code}", "name_en": f"Competency {code}",
                "description_zh": "描述", "description_en": "Description", "weight": 10 + i, "duty_areas": ["D1"],
                "descriptors": {level: {"zh": f"{code}第{level}级", "en": f"{code} level {level}"} for level in range(1, 6)},
                "targets": {"trainee": 1, "junior": 2, "intermediate": 3, "senior": 4},
            }
            for i, code in enumerate(codes)
        ],
    }


def model_version(position_code="CM_CORP", publish=False, codes=("K1", "S1"), **overrides):
    """A draft (or published) model version of the position with the given competency codes, built through the
    importer."""
    import yaml

    from competency.services.ksa import importer, versions

    position(position_code)
    data = model_data(position_code, codes) | overrides
    version = importer.import_file(yaml.safe_dump(data, allow_unicode=True).encode(), "model.yaml")
    if publish:
        versions.publish(version)
    return version


def course(code="S5-101", credits="3", competencies=None, **fields):
    """A course (active, classroom) developing the given {code: level} competencies."""
    from decimal import Decimal

    from competency.models import Course, CourseCompetency, CourseType, Delivery

    values = dict(code=code, title_zh=f"课程{code}", title_en=f"Course {code}", type=CourseType.INDUSTRY,
                  delivery=Delivery.CLASSROOM, hours=Decimal("8"), credits=Decimal(credits), active=True,
                  description_zh="", description_en="")
    values.update(fields)
    item = Course(**values)
    item.competencies = [CourseCompetency(competency_code=k, up_to_level=v) for k, v in (competencies or {"S1": 3}).items()]
    db.session.add(item)
    db.session.flush()
    return item


@contextmanager
def statements():
    """The SQL statements run inside the block, as a list filled as they run."""
    seen = []

    def listen(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


def page_figures(page: str) -> list[dict]:
    """The chart figures of a page, read from their `data-figure` attributes as a browser reads them."""
    found = []

    class Charts(HTMLParser):
        def handle_starttag(self, tag, attrs):
            figure = dict(attrs).get("data-figure")
            if figure is not None:
                found.append(json.loads(figure))

    Charts().feed(page)
    return found
