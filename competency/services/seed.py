"""Loading seeds/: positions, the demo organisation and its accounts. Idempotent."""
from pathlib import Path

import yaml
from sqlalchemy import select

from ..extensions import db
from ..models import (
    AnnualSales,
    Certification,
    CreditRequirement,
    Cycle,
    Enrolment,
    Grade,
    GradeStandard,
    ModelVersion,
    Position,
    Role,
    User,
    UserRole,
)
from ..timeutil import utcnow
from . import imports
from .ksa import importer as model_importer
from .ksa import versions
from .org import employee_by_staff_no
from .review import standards
from .training import certifications, ledger
from .unit_of_work import unit_of_work


@unit_of_work()
def seed_positions(path: Path) -> int:
    """Upsert positions by code; return how many were created or changed. Unit of work."""
    changed = 0
    existing = {p.code: p for p in db.session.scalars(select(Position))}
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
        item = {k: entry[k] for k in ("code", "name_zh", "name_en")}
        position = existing.get(item["code"])
        if position is None:
            db.session.add(Position(**item))
            changed += 1
        elif (position.name_zh, position.name_en) != (item["name_zh"], item["name_en"]):
            position.name_zh, position.name_en = item["name_zh"], item["name_en"]
            changed += 1
    return changed


def seed_all(seeds_dir: str, *, probation_months: int, hash_method=None) -> dict:
    """Load every seed file in order (each step its own unit of work); return what each step changed."""
    folder = Path(seeds_dir)
    demo = yaml.safe_load((folder / "demo.yaml").read_text(encoding="utf-8"))
    report = {"positions": seed_positions(folder / "positions.yaml")}
    units = imports.import_org_units((folder / "org_units.csv").read_bytes(), "org_units.csv")
    report["org_units"] = units.changed
    people = imports.import_employees(
        (folder / "employees.csv").read_bytes(), "employees.csv",
        probation_months=probation_months, password=demo["demo_password"], hash_method=hash_method,
    )
    report["employees"] = people.changed
    report["models"] = seed_models(folder)
    report["courses"] = imports.import_courses((folder / "courses.csv").read_bytes(), "courses.csv").changed
    report["credit_requirements"] = seed_requirements(folder / "credit_requirements.yaml")
    report["grade_standards"] = seed_standards(folder / "grade_standards.yaml")
    report["history"] = seed_history(folder, demo.get("history") or {})
    report["certifications"] = seed_certifications(demo.get("certifications") or [])
    report["two_factor"] = seed_two_factor(demo.get("demo_two_factor_secret"))
    return report


@unit_of_work()
def seed_two_factor(secret: str | None) -> int:
    """Give the demo's hr and admin accounts that have no second factor yet the documented demo secret, so the
    demo can be signed in to (two-factor is required for those roles). Unit of work."""
    if not secret:
        return 0
    accounts = db.session.scalars(select(User).join(UserRole).where(
        UserRole.role.in_([Role.HR, Role.ADMIN]), User.totp_secret.is_(None)).distinct()).all()
    for account in accounts:
        account.totp_secret, account.totp_enabled_at = secret, utcnow()
    return len(accounts)


def seed_certifications(items: list[dict]) -> int:
    """Record the demo certifications that are not there yet (by person, name and number)."""
    added = 0
    for item in items:
        person = employee_by_staff_no(item["staff_no"])
        exists = db.session.scalar(select(Certification.id).where(
            Certification.employee_id == person.id, Certification.name == item["name"], Certification.number == item["number"]))
        if exists is None:
            certifications.save_certification(person, {k: item.get(k) for k in ("name", "issuer", "number", "issued_on", "expires_on")})
            added += 1
    return added


def seed_standards(path: Path) -> int:
    """Set the grade standards of positions that have none yet."""
    have = set(db.session.scalars(select(Position.code).join(GradeStandard, GradeStandard.position_id == Position.id)))
    documents = [d for d in yaml.safe_load(path.read_text(encoding="utf-8")) if d["position"] not in have]
    if documents:
        standards.import_standards(yaml.safe_dump(documents, allow_unicode=True))
    return len(documents)


def seed_history(folder: Path, history: dict) -> int:
    """Import the demo's past appraisal and training once (skipped when that history is already there)."""
    imported = 0
    ratings = history.get("ratings")
    if ratings and db.session.scalar(select(Cycle.id).where(Cycle.code == str(ratings["cycle"]))) is None:
        imports.import_ratings((folder / ratings["file"]).read_bytes(), ratings["file"],
                                      cycle_code=str(ratings["cycle"]), start=ratings["start"], end=ratings["end"])
        imported += 1
    sales_file = (history.get("sales") or {}).get("file")
    if sales_file and db.session.scalar(select(AnnualSales.id).limit(1)) is None:
        imports.import_sales((folder / sales_file).read_bytes(), sales_file)
        imported += 1
    training_file = (history.get("training") or {}).get("file")
    if training_file and db.session.scalar(select(Enrolment.id).limit(1)) is None:
        imports.import_training((folder / training_file).read_bytes(), training_file)
        imported += 1
    return imported


def seed_requirements(path: Path) -> int:
    """Set the yearly credit requirement of each grade that has none yet."""
    existing = {r.grade for r in db.session.scalars(select(CreditRequirement))}
    missing = {g: v for g, v in yaml.safe_load(path.read_text(encoding="utf-8")).items() if Grade(g) not in existing}
    if missing:
        ledger.set_requirements(missing)
    return len(missing)


def seed_models(folder: Path) -> int:
    """Publish the seeded competency model for each position that names one and has no version yet."""
    created = 0
    for entry in yaml.safe_load((folder / "positions.yaml").read_text(encoding="utf-8")):
        if not entry.get("model"):
            continue
        position = db.session.scalar(select(Position).where(Position.code == entry["code"]))
        if db.session.scalar(select(ModelVersion.id).where(ModelVersion.position_id == position.id).limit(1)):
            continue
        path = folder / entry["model"]
        version = model_importer.import_file(path.read_bytes(), path.name, position_code=position.code)
        versions.publish(version)
        created += 1
    return created
