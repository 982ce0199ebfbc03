"""Languages: locale selection, the labels of coded values, and bilingual field helpers."""
from flask import current_app, g, has_request_context, request, session
from flask_babel import Domain, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .extensions import babel
from .models import (
    AppealStatus,
    AssessmentStatus,
    CourseType,
    CycleStatus,
    Decision,
    Delivery,
    EmployeeStatus,
    EnrolmentStatus,
    Grade,
    MentoringStatus,
    OrgUnitKind,
    Rater,
    ReviewAction,
    Role,
    RunStatus,
    TrainingResult,
    VersionStatus,
)
from .services.scoring import display
from .timeutil import bank_time, utcnow, zone

LABELS = {
    Grade.TRAINEE: _l("Trainee"),
    Grade.JUNIOR: _l("Junior"),
    Grade.INTERMEDIATE: _l("Intermediate"),
    Grade.SENIOR: _l("Senior"),
    OrgUnitKind.HEAD_OFFICE: _l("Head office"),
    OrgUnitKind.TIER1_BRANCH: _l("Tier-1 branch"),
    OrgUnitKind.TIER2_BRANCH: _l("Tier-2 branch"),
    OrgUnitKind.SUB_BRANCH: _l("Sub-branch"),
    Role.EMPLOYEE: _l("Employee"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.TRAINER: _l("Trainer"),
    Role.HR: _l("HR"),
    Role.ADMIN: _l("Administrator"),
    EmployeeStatus.PROBATION: _l("On probation"),
    EmployeeStatus.ACTIVE: _l("Active"),
    EmployeeStatus.TRANSFERRED: _l("Transferred"),
    EmployeeStatus.LEFT: _l("Left"),
    VersionStatus.DRAFT: _l("Draft"),
    VersionStatus.PUBLISHED: _l("Published"),
    VersionStatus.RETIRED: _l("Retired"),
    CycleStatus.DRAFT: _l("Draft"),
    CycleStatus.OPEN: _l("Open"),
    CycleStatus.CLOSED: _l("Closed"),
    AssessmentStatus.NOT_STARTED: _l("Not started"),
    AssessmentStatus.SELF_IN_PROGRESS: _l("Self-assessment in progress"),
    AssessmentStatus.SELF_SUBMITTED: _l("Self-assessment submitted"),
    AssessmentStatus.SUPERVISOR_IN_PROGRESS: _l("Supervisor assessment in progress"),
    AssessmentStatus.COMPLETED: _l("Completed"),
    AssessmentStatus.INCOMPLETE: _l("Incomplete"),
    EnrolmentStatus.ASSIGNED: _l("Assigned"),
    EnrolmentStatus.IN_PROGRESS: _l("In progress"),
    EnrolmentStatus.COMPLETED: _l("Completed"),
    EnrolmentStatus.FAILED: _l("Failed"),
    EnrolmentStatus.ABSENT: _l("Absent"),
    EnrolmentStatus.CANCELLED: _l("Cancelled"),
    MentoringStatus.ACTIVE: _l("Active"),
    MentoringStatus.COMPLETED: _l("Completed"),
    MentoringStatus.CANCELLED: _l("Cancelled"),
    ReviewAction.CONFIRM: _l("Confirm (end of probation)"),
    ReviewAction.REFER: _l("Refer to HR"),
    ReviewAction.PROMOTE: _l("Promote"),
    ReviewAction.KEEP: _l("Keep"),
    ReviewAction.DEMOTE: _l("Demote"),
    ReviewAction.TRANSFER: _l("Transfer to another post"),
    AppealStatus.OPEN: _l("Open"),
    AppealStatus.UPHELD: _l("Upheld"),
    AppealStatus.REOPENED: _l("Reopened for the supervisor"),
    AppealStatus.CHANGED: _l("Grade changed"),
    RunStatus.DRAFT: _l("Draft"),
    RunStatus.FINALISED: _l("Finalised"),
    Decision.PENDING: _l("Pending"),
    Decision.APPROVED: _l("Approved"),
    Decision.OVERRIDDEN: _l("Overridden"),
    Decision.REJECTED: _l("Rejected"),
    CourseType.LAW: _l("Law, regulation and company rules"),
    CourseType.INDUSTRY: _l("Industry knowledge"),
    CourseType.SALES: _l("Sales skills"),
    CourseType.EXCHANGE: _l("Cross-industry exchange"),
    CourseType.MENTORING: _l("Mentoring"),
    CourseType.CERTIFICATION: _l("Certification preparation"),
    Delivery.CLASSROOM: _l("Classroom"),
    Delivery.ONLINE: _l("Online"),
    Delivery.SELF_STUDY: _l("Self-study"),
    Delivery.ON_THE_JOB: _l("On the job"),
    Rater.SELF: _l("Self"),
    Rater.SUPERVISOR: _l("Supervisor"),
    TrainingResult.PASS: _l("Passed"),
    TrainingResult.FAIL: _l("Failed"),
}


def label(value) -> str:
    """The translated label of a coded value (grade, role, status, kind)."""
    if value is None:
        return ""
    return str(LABELS.get(value, value))


def grade_reason(change) -> str:
    """Why a grade changed, in the user's language: the code's label, then the reason a person gave."""
    data = change.reason_data or {}
    action = data.get("action")
    labels = {
        "review": lambda: _l("Review %(year)s: %(action)s", year=data.get("year"),
                             action=label(ReviewAction(action)) if action else ""),
        "appeal": lambda: _l("Appeal against the review of %(year)s", year=data.get("year")),
        "employee_page": lambda: _l("Changed on the employee page"),
        "import": lambda: _l("Import of %(file)s", file=data.get("file", "")),
    }
    if change.reason_code not in labels:
        return change.reason or ""  # written before reasons had codes
    text = str(labels[change.reason_code]())
    return f"{text} — {change.reason}" if change.reason else text


def lang() -> str:
    """'zh' or 'en': the language of the current request (asked dozens of times a page: the locale Flask-Babel
    chose, or forces for a while, is read straight from the request's context once chosen)."""
    locale = _request_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


def _request_locale():
    """The locale Flask-Babel chose for the request (or forces for a while), read straight from its context once
    chosen; Flask-Babel's get_locale looks the context up again on each call."""
    try:
        return g._flask_babel.babel_locale or get_locale()  # None: not chosen yet (or again after a force_locale)
    except (AttributeError, RuntimeError):  # not chosen yet, or outside a request
        return get_locale()


def in_language(zh, en, language: str | None = None):
    """The one rule for bilingual data: the zh or the en value in the language ("zh" or "en"; the request's by
    default), the other one when it is empty, "" when both are."""
    first, second = (en, zh) if (language or lang()) == "en" else (zh, en)
    return first or second or ""


def localized(obj, field: str = "name", language: str | None = None):
    """obj.<field>_zh or obj.<field>_en by `in_language` (in the current language by default)."""
    if obj is None:
        return ""
    return in_language(getattr(obj, f"{field}_zh", None), getattr(obj, f"{field}_en", None), language)


def select_locale() -> str:
    """The browser's language by default; a stored choice (account or session) wins."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


class RequestDomain(Domain):
    """Flask-Babel's message domain, its translations looked up once per request and locale: Flask-Babel looks them
    up again for every string (the request context three times and the locale's name), and a form page translates
    a hundred strings."""

    def get_translations(self):
        locale = _request_locale()
        try:
            found, translations = g._flask_babel.request_translations
            if found is locale:
                return translations
        except (AttributeError, RuntimeError):  # first string of the request, or outside one
            pass
        translations = super().get_translations()
        try:
            g._flask_babel.request_translations = (locale, translations)
        except (AttributeError, RuntimeError):
            pass
        return translations


def _translations():
    return babel.domain_instance.get_translations()


def init_app(app) -> None:
    """Wire Flask-Babel and the template helpers; refuse a TIMEZONE that names no time zone."""
    zone(app.config["TIMEZONE"])
    babel.init_app(app, locale_selector=select_locale)
    babel.__dict__["domain_instance"] = RequestDomain()  # Babel's cached property, the same domain ("messages")
    app.jinja_env.install_gettext_callables(gettext=lambda s: _translations().ugettext(s),
                                            ngettext=lambda s, p, n: _translations().ungettext(s, p, n), newstyle=True,
                                            pgettext=lambda c, s: _translations().upgettext(c, s),
                                            npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n))
    app.jinja_env.globals.update(label=label, localized=localized, lang=lang)
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["l10n"] = localized
    app.jinja_env.filters["score"] = display
    app.jinja_env.filters["grade_reason"] = grade_reason
    app.jinja_env.filters["bank_time"] = bank_time
    app.context_processor(lambda: {"now": utcnow()})
