"""Login accounts: creation, roles, passwords, activation, language. Each public change is a unit of work."""
import secrets

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, insert, or_, select, update
from werkzeug.security import check_password_hash

from ..errors import DomainError
from ..extensions import db
from ..models import Employee, Role, User, UserRole
from . import audit, bulk, passwords
from .auth import hash_password, unusable_password_hash
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
def create_user(*, email=None, employee=None, password=None, roles=(), actor=None, hash_method=None,
                demo: bool = False) -> User:
    """Create an account with its roles: a password given is held to the policy (except the seed's demo password),
    none gives a random unusable one (a directory account, or one whose owner gets a reset). Unit of work."""
    if email is None and employee is None:
        raise DomainError(_l("An account needs an email or a linked employee."))
    if email and email_taken(email):
        raise DomainError(_l("Another account already uses this email."))
    if employee is not None and db.session.scalar(select(User.id).where(User.employee_id == employee.id)):
        raise DomainError(_l("This employee already has an account."))
    user = User(email=email or None, employee=employee, active=True, session_version=1)
    if password and not demo:
        passwords.check(password, user)
    user.password_hash = hash_password(password or secrets.token_urlsafe(24), _hash_method(hash_method))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, actor=actor, login=user.login_name)
    set_roles(user, roles, actor=actor)
    return user


def create_users(people: list[tuple[int, str, str | None, list[Role]]], *, password=None, actor=None, hash_method=None) -> dict[int, int]:
    """`create_user` for many employees at once, in bulk statements, for imports: (employee id, staff number, email,
    roles) each; the caller has checked that the emails are free and that the people have no account yet. Without
    `password` (the seed's demo password, hashed once since hashing is deliberately slow) each account gets its own
    value no password matches, until an administrator resets it. Audits `user.create` and `user.roles` per
    account; returns {employee id: user id}. Runs inside the caller's unit of work."""
    if not people:
        return {}
    shared = hash_password(password, _hash_method(hash_method)) if password else None
    ids = bulk.insert_returning_ids(User.__table__, (
        {"email": email or None, "employee_id": employee_id, "password_hash": shared or unusable_password_hash(), "active": True,
         "session_version": 1} for employee_id, _, email, _ in people))
    user_ids = {employee_id: user_id for (employee_id, *_rest), user_id in zip(people, ids, strict=True)}
    bulk.execute_many(insert(UserRole.__table__), ({"user_id": user_ids[employee_id], "role": role}
                                                   for employee_id, _, _, roles in people for role in sorted(set(roles))))
    audit.record_many("user.create", actor, (("user", user_ids[employee_id], {"login": staff_no})
                                             for employee_id, staff_no, _, _ in people))
    audit.record_many("user.roles", actor, (("user", user_ids[employee_id], {"granted": sorted(set(roles)), "revoked": []})
                                            for employee_id, _, _, roles in people if roles))
    return user_ids


@unit_of_work()
def create_account(*, staff_no, email, password, roles, actor) -> User:
    """Create an account linked to the employee with that staff number (if given). Unit of work."""
    employee = None
    if staff_no:
        employee = employee_by_staff_no(staff_no)
        if employee is None:
            raise DomainError(_l("Unknown staff number %(no)s.", no=staff_no))
    return create_user(email=email or None, employee=employee, password=password, roles=roles, actor=actor)


def _active_admins() -> int:
    """How many active administrators there are, counted under locks so that two changes at once cannot both take
    the count for theirs and leave none: SQLite's write lock (an empty UPDATE takes it), PostgreSQL's row locks on
    the administrators (FOR UPDATE waits for the other change and then sees it)."""
    db.session.execute(update(User).where(false()).values(active=User.active))
    return len(db.session.scalars(select(User.id).join(UserRole).where(
        User.active.is_(True), UserRole.role == Role.ADMIN).with_for_update()).all())


def _end_sessions(user: User) -> None:
    """Every session of the account ends at its next request (the version in the session no longer matches)."""
    user.session_version = (user.session_version or 1) + 1


@unit_of_work()
def set_roles(user: User, roles, actor=None) -> bool:
    """Give the account exactly these roles (the last active administrator keeps theirs); audits, ends the
    account's sessions and returns whether anything changed. Unit of work."""
    wanted = {Role(r) for r in roles}
    current = user.roles
    if wanted == current:
        return False
    if Role.ADMIN in current and Role.ADMIN not in wanted and user.active and _active_admins() <= 1:
        raise DomainError(_l("This is the last active administrator: give another account the administrator role first."))
    user.role_rows = [r for r in user.role_rows if r.role in wanted] + [UserRole(role=r) for r in sorted(wanted - current)]
    _end_sessions(user)
    audit.record("user.roles", "user", user.id, actor=actor, granted=sorted(wanted - current),
                 revoked=sorted(current - wanted))
    return True


@unit_of_work()
def reset_password(user: User, password: str, actor=None, hash_method=None) -> None:
    """An administrator sets a new password (held to the policy): every session of the account ends and the owner
    must choose their own password at the next sign-in. Unit of work."""
    passwords.check(password, user)
    user.password_hash = hash_password(password, _hash_method(hash_method))
    user.must_change_password = True
    _end_sessions(user)
    audit.record("user.password_reset", "user", user.id, actor=actor)


@unit_of_work()
def change_password(user: User, current: str, new: str, hash_method=None) -> None:
    """The owner changes their password: the current one, then a new one held to the policy and different from
    it. Every other session of the account ends. Unit of work."""
    if user.auth_source != "local":
        raise DomainError(_l("Your password is managed by the bank's directory: change it there."))
    if not check_password_hash(user.password_hash, current or ""):
        raise DomainError(_l("The current password is wrong."))
    if new == current:
        raise DomainError(_l("Choose a new password that differs from the current one."))
    passwords.check(new, user)
    user.password_hash = hash_password(new, _hash_method(hash_method))
    user.must_change_password = False
    _end_sessions(user)
    audit.record("user.password_change", "user", user.id, actor=user)


def set_password_from_link(user: User, password: str, hash_method=None) -> None:
    """The owner chose a new password through an e-mailed reset link (held to the policy): every session of the
    account ends. Runs inside the caller's unit of work (services/password_reset.py), which audits it."""
    passwords.check(password, user)
    user.password_hash = hash_password(password, _hash_method(hash_method))
    user.must_change_password = False
    _end_sessions(user)


@unit_of_work()
def toggle_active(user: User, actor) -> None:
    """Deactivate an active account (its sessions end) or reactivate an inactive one; nobody deactivates themself,
    and the last active administrator stays. Unit of work."""
    if user.id == getattr(actor, "id", None):
        raise DomainError(_l("You cannot deactivate your own account."))
    if user.active and user.has_role(Role.ADMIN) and _active_admins() <= 1:
        raise DomainError(_l("This is the last active administrator: it cannot be deactivated."))
    user.active = not user.active
    _end_sessions(user)
    audit.record("user.activate" if user.active else "user.deactivate", "user", user.id, actor=actor)


@unit_of_work()
def set_locale(user: User, locale: str) -> None:
    """Remember the account's interface language. Unit of work."""
    user.locale = locale
