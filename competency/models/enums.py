"""The domain's fixed vocabularies; their values are the codes used in files, the CLI and JSON."""
import enum

from sqlalchemy import Enum as SAEnum


class Grade(enum.StrEnum):
    TRAINEE = "trainee"
    JUNIOR = "junior"
    INTERMEDIATE = "intermediate"
    SENIOR = "senior"

    @property
    def rank(self) -> int:
        """Position in the ordered set trainee < junior < intermediate < senior."""
        return list(Grade).index(self)

    def next(self) -> "Grade | None":
        """The grade above this one, or None for senior."""
        grades = list(Grade)
        return grades[self.rank + 1] if self.rank + 1 < len(grades) else None


class OrgUnitKind(enum.StrEnum):
    HEAD_OFFICE = "head_office"
    TIER1_BRANCH = "tier1_branch"
    TIER2_BRANCH = "tier2_branch"
    SUB_BRANCH = "sub_branch"


class Role(enum.StrEnum):
    EMPLOYEE = "employee"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"
    HR = "hr"
    ADMIN = "admin"


class EmployeeStatus(enum.StrEnum):
    PROBATION = "probation"
    ACTIVE = "active"
    TRANSFERRED = "transferred"
    LEFT = "left"


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class Category(enum.StrEnum):
    K = "K"
    S = "S"
    A = "A"


LEVELS = (1, 2, 3, 4, 5)


class CycleStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class AssessmentStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    SELF_IN_PROGRESS = "self_in_progress"
    SELF_SUBMITTED = "self_submitted"
    SUPERVISOR_IN_PROGRESS = "supervisor_in_progress"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"


class Rater(enum.StrEnum):
    SELF = "self"
    SUPERVISOR = "supervisor"


class CourseType(enum.StrEnum):
    LAW = "law"
    INDUSTRY = "industry"
    SALES = "sales"
    EXCHANGE = "exchange"
    MENTORING = "mentoring"
    CERTIFICATION = "certification"


class Delivery(enum.StrEnum):
    CLASSROOM = "classroom"
    ONLINE = "online"
    SELF_STUDY = "self_study"
    ON_THE_JOB = "on_the_job"


class EnrolmentStatus(enum.StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    ABSENT = "absent"
    CANCELLED = "cancelled"


class TrainingResult(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"


class CreditSource(enum.StrEnum):
    ENROLMENT = "enrolment"
    MENTORING = "mentoring"
    ADJUSTMENT = "adjustment"


class MentoringStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ReviewAction(enum.StrEnum):
    CONFIRM = "confirm"
    REFER = "refer"
    PROMOTE = "promote"
    KEEP = "keep"
    DEMOTE = "demote"
    TRANSFER = "transfer"


class RunStatus(enum.StrEnum):
    DRAFT = "draft"
    FINALISED = "finalised"


class AppealStatus(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    REOPENED = "reopened"
    CHANGED = "changed"


class Decision(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    OVERRIDDEN = "overridden"
    REJECTED = "rejected"


def enum_column(enum_cls: type[enum.Enum], name: str):
    """A VARCHAR column type holding the enum's values, with a CHECK constraint in the database."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )
