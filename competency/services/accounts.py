"""Login accounts: creation, roles, passwords, activation, language. Each public change is a unit of work."""
import secrets

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..errors import DomainError
from ..extensions import db
from ..models import Employee, Role, User, UserRole
from . import audit
from .auth import hash_password
from .org import employee_by_staff_no
from .unit_of_work import unit_of_work


def user_query(q: str = ""):
    """SELECT of accounts matching a staff number, name or email, ordered by id."""
    query = select(User).outerjoin(Employee, User.employee_id == Employee.id)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(User.email.ilike(like), Employee.staff_no.ilike(like),
                                Employee.name_zh.ilike(like), Employee.name_en.ilike(like)))
    return query.order_by(User.id)


def email_taken(email: str, except_user_id: int | None = None) -> bool:
    """Whether another account already uses this email (case-insensitive)."""
    query = select(User.id).where(func.lower(User.email) == email.lower())
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return db.session.scalar(query) is not None


def _hash_method(given: str | None) -> str | None:
    if given is None and has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD")
    return given


@unit_of_work()
def create_user(*, email=None, employee=None, password=None, roles=(), actor=None, hash_method=None) -> User:
    """Create an account (a random unusable password when none is given) with its roles. Unit of work."""
    if email is None and employee is None:
        raise DomainError(_l("An account needs an email or a linked employee."))
    if email and email_taken(email):
        raise DomainError(_l("Another account already uses this email."))
    if employee is not None and db.session.scalar(select(User.id).where(User.employee_id == employee.id)):
        raise DomainError(_l("This employee already has an account."))
    user = User(email=email or None, employee=employee, active=True,
                password_hash=hash_password(password or secrets.token_urlsafe(24), _hash_method(hash_method)))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, actor=actor, login=user.login_name)
    set_roles(user, roles, actor=actor)
    return user


@unit_of_work()
def create_account(*, staff_no, email, password, roles, actor) -> User:
    """Create an account linked to the employee with that staff number (if given). Unit of work."""
    employee = None
    if staff_no:
        employee = employee_by_staff_no(staff_no)
        if employee is None:
            raise DomainError(_l("Unknown staff number %(no)s.", no=staff_no))
    return create_user(email=email or None, employee=employee, password=password, roles=roles, actor=actor)


@unit_of_work()
def set_roles(user: User, roles, actor=None) -> bool:
    """Give the account exactly these roles; audits and returns whether anything changed. Unit of work."""
    wanted = {Role(r) for r in roles}
    current = user.roles
    if wanted == current:
        return False
    user.role_rows = [r for r in user.role_rows if r.role in wanted] + [UserRole(role=r) for r in sorted(wanted - current)]
    audit.record("user.roles", "user", user.id, actor=actor, granted=sorted(wanted - current),
                 revoked=sorted(current - wanted))
    return True


@unit_of_work()
def reset_password(user: User, password: str, actor=None, hash_method=None) -> None:
    """Set a new password and lift any lock. Unit of work."""
    user.password_hash = hash_password(password, _hash_method(hash_method))
    user.locked_until = None
    audit.record("user.password_reset", "user", user.id, actor=actor)


@unit_of_work()
def toggle_active(user: User, actor) -> None:
    """Deactivate an active account or reactivate an inactive one; nobody deactivates themself. Unit of work."""
    if user.id == getattr(actor, "id", None):
        raise DomainError(_l("You cannot deactivate your own account."))
    user.active = not user.active
    audit.record("user.activate" if user.active else "user.deactivate", "user", user.id, actor=actor)


@unit_of_work()
def set_locale(user: User, locale: str) -> None:
    """Remember the account's interface language. Unit of work."""
    user.locale = locale
