"""Login accounts: creation, roles, passwords, deactivation. Callers commit."""
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..errors import DomainError
from ..extensions import db
from ..models import Role, User, UserRole
from . import audit
from .auth import hash_password


def email_taken(email: str, except_user_id: int | None = None) -> bool:
    """Whether another account already uses this email (case-insensitive)."""
    query = select(User.id).where(func.lower(User.email) == email.lower())
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return db.session.scalar(query) is not None


def create_user(*, email=None, employee=None, password=None, roles=(), actor=None, hash_method=None) -> User:
    """Create an account (a random unusable password when none is given) with its roles."""
    if email is None and employee is None:
        raise DomainError(_l("An account needs an email or a linked employee."))
    if email and email_taken(email):
        raise DomainError(_l("Another account already uses this email."))
    if employee is not None and db.session.scalar(select(User.id).where(User.employee_id == employee.id)):
        raise DomainError(_l("This employee already has an account."))
    user = User(
        email=email or None,
        employee=employee,
        password_hash=hash_password(password or secrets.token_urlsafe(24), hash_method),
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, actor=actor, login=user.login_name)
    set_roles(user, roles, actor=actor)
    return user


def set_roles(user: User, roles, actor=None) -> bool:
    """Give the account exactly these roles; audits and returns whether anything changed."""
    wanted = {Role(r) for r in roles}
    current = user.roles
    if wanted == current:
        return False
    user.role_rows = [r for r in user.role_rows if r.role in wanted] + [
        UserRole(role=r) for r in sorted(wanted - current)
    ]
    audit.record(
        "user.roles",
        "user",
        user.id,
        actor=actor,
        granted=sorted(wanted - current),
        revoked=sorted(current - wanted),
    )
    return True


def reset_password(user: User, password: str, actor=None, hash_method=None) -> None:
    """Set a new password and lift any lock."""
    user.password_hash = hash_password(password, hash_method)
    user.locked_until = None
    audit.record("user.password_reset", "user", user.id, actor=actor)


def set_active(user: User, active: bool, actor=None) -> None:
    """Activate or deactivate an account."""
    if user.active != active:
        user.active = active
        audit.record("user.activate" if active else "user.deactivate", "user", user.id, actor=actor)
