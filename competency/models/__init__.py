"""All models, imported here so that Alembic and the app see every table."""
from .audit import AuditEvent
from .enums import EmployeeStatus, Grade, OrgUnitKind, Role
from .org import Employee, GradeHistory, OrgUnit, Position
from .user import User, UserRole

__all__ = [
    "AuditEvent",
    "Employee",
    "EmployeeStatus",
    "Grade",
    "GradeHistory",
    "OrgUnit",
    "OrgUnitKind",
    "Position",
    "Role",
    "User",
    "UserRole",
]
