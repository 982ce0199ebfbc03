"""All models, imported here so that Alembic and the app see every table."""
from .audit import AuditEvent
from .enums import LEVELS, Category, EmployeeStatus, Grade, OrgUnitKind, Role, VersionStatus
from .ksa import Cluster, Competency, Descriptor, DutyArea, ModelVersion, Target, competency_duty_area
from .org import Employee, GradeHistory, OrgUnit, Position
from .user import User, UserRole

__all__ = [
    "LEVELS",
    "Category",
    "Cluster",
    "Competency",
    "Descriptor",
    "DutyArea",
    "ModelVersion",
    "Target",
    "VersionStatus",
    "competency_duty_area",
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
