"""Account administration as units of work: each function commits."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..errors import DomainError
from ..extensions import db
from ..models import AuditEvent, Employee, User
from . import users


def user_query(q: str = ""):
    """SELECT of accounts matching a staff number, name or email, ordered by id."""
    query = select(User).outerjoin(Employee, User.employee_id == Employee.id)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(User.email.ilike(like), Employee.staff_no.ilike(like),
                                Employee.name_zh.ilike(like), Employee.name_en.ilike(like)))
    return query.order_by(User.id)


def audit_query(action: str = ""):
    """SELECT of audit events, newest first, optionally of one action prefix."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    return query


def _hash_method():
    return current_app.config.get("PASSWORD_HASH_METHOD")


def create_account(*, staff_no, email, password, roles, actor) -> User:
    """Create an account linked to the employee with that staff number (if given). Commits."""
    employee = None
    if staff_no:
        employee = db.session.scalar(select(Employee).where(Employee.staff_no == staff_no.strip()))
        if employee is None:
            raise DomainError(_l("Unknown staff number %(no)s.", no=staff_no))
    user = users.create_user(email=email or None, employee=employee, password=password, roles=roles,
                             actor=actor, hash_method=_hash_method())
    db.session.commit()
    return user


def change_roles(user: User, roles, actor) -> None:
    """Give the account exactly these roles. Commits."""
    users.set_roles(user, roles, actor=actor)
    db.session.commit()


def change_password(user: User, password: str, actor) -> None:
    """Reset the password and lift any lock. Commits."""
    users.reset_password(user, password, actor=actor, hash_method=_hash_method())
    db.session.commit()


def toggle_active(user: User, actor) -> None:
    """Deactivate an active account or reactivate an inactive one; nobody deactivates themself. Commits."""
    if user.id == getattr(actor, "id", None):
        raise DomainError(_l("You cannot deactivate your own account."))
    users.set_active(user, not user.active, actor=actor)
    db.session.commit()

