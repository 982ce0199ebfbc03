"""Certifications (资格认证) held by employees; the annual review counts those valid on a date."""
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ...errors import DomainError
from ...extensions import db
from ...models import Certification, Employee
from ...timeutil import bank_today
from .. import audit
from ..unit_of_work import unit_of_work


@unit_of_work()
def save_certification(employee: Employee, values: dict, cert: Certification | None = None, actor=None) -> Certification:
    """Record or correct a certification (name, issuer, number, issued_on, expires_on). Unit of work."""
    if values.get("expires_on") and values["expires_on"] < values["issued_on"]:
        raise DomainError(_l("A certification cannot expire before it is issued."))
    creating = cert is None
    cert = cert or Certification(employee=employee)
    for key in ("name", "issuer", "number", "issued_on", "expires_on"):
        setattr(cert, key, values.get(key))
    db.session.add(cert)
    db.session.flush()
    audit.record("certification.create" if creating else "certification.update", "certification", cert.id, actor=actor)
    return cert


def certifications_of(employee_id: int) -> list[Certification]:
    """A person's certifications, soonest expiry first (those that never expire last)."""
    return db.session.scalars(select(Certification).where(Certification.employee_id == employee_id)
                              .order_by(Certification.expires_on.is_(None), Certification.expires_on)).all()


def held_on(as_of: date, employee_ids=None) -> dict[int, frozenset[str]]:
    """{employee id: names of the certifications valid on the date (issued by then, not expired)}.
    The one query for "holds a certification"; `employee_ids` (a list or SELECT) narrows it."""
    query = select(Certification.employee_id, Certification.name).where(
        Certification.issued_on <= as_of, or_(Certification.expires_on.is_(None), Certification.expires_on >= as_of))
    if employee_ids is not None:
        query = query.where(Certification.employee_id.in_(employee_ids))
    held: dict[int, set] = {}
    for employee_id, name in db.session.execute(query):
        held.setdefault(employee_id, set()).add(name)
    return {k: frozenset(v) for k, v in held.items()}


def expiring_soon(cert: Certification, today: date | None = None, days: int = 60) -> bool:
    """Whether the certification expires within the coming `days` (or has expired)."""
    today = today or bank_today()
    return cert.expires_on is not None and cert.expires_on <= today + timedelta(days=days)
