"""All models, imported here so that Alembic and the app see every table."""
from .assessment import Assessment, Cycle, Rating
from .audit import AuditEvent
from .enums import (
    LEVELS, AssessmentStatus, Category, CourseType, CreditSource, CycleStatus, Delivery, EmployeeStatus,
    Decision, EnrolmentStatus, Grade, MentoringStatus, OrgUnitKind, Rater, ReviewAction, Role, RunStatus, TrainingResult,
    VersionStatus,
)
from .training import (
    Certification, Course, CourseCompetency, CreditEntry, CreditRequirement, Enrolment, Mentoring, TrainingSession,
)
from .grading import AnnualSales, GradeStandard, ProbationConfirmation, Recommendation, ReviewRun, Setting
from .ksa import Cluster, Competency, Descriptor, DutyArea, ModelVersion, Target, competency_duty_area
from .org import Employee, GradeHistory, OrgUnit, Position
from .user import User, UserRole

__all__ = [
    "AnnualSales",
    "Decision",
    "GradeStandard",
    "ProbationConfirmation",
    "Recommendation",
    "ReviewAction",
    "ReviewRun",
    "RunStatus",
    "Setting",
    "Certification",
    "Course",
    "CourseCompetency",
    "CourseType",
    "CreditEntry",
    "CreditRequirement",
    "CreditSource",
    "Delivery",
    "Enrolment",
    "EnrolmentStatus",
    "Mentoring",
    "MentoringStatus",
    "TrainingResult",
    "TrainingSession",
    "Assessment",
    "AssessmentStatus",
    "Cycle",
    "CycleStatus",
    "Rater",
    "Rating",
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
