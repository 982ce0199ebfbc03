"""Who may see and do what: the one module that decides access (docs/domain.md, "Roles and who sees whom").

Three kinds of rule live here and nowhere else:
- **permissions**: what a role may do at all (`can(user, "review.manage")`), the table `PERMISSIONS`;
- **scopes**: SELECTs of the employee ids a user may see (`visible_employee_ids`), read privately
  (`private_ids`), assign courses to (`assignable_ids`) or lead (`team_ids`);
- **relationship predicates** and **load-or-404 helpers** for single objects (`can_cancel(user, enrolment)`,
  `result_or_404(user, assessment_id)`), raising `NotFound` for what the user may not know exists and
  `Forbidden` for what they may see but not do.
Views, templates (through the Jinja globals `can`, `can_cancel` …), the CLI and the API all call these.
"""
from flask import g, has_request_context
from sqlalchemy import Select, literal, or_, select, true, union

from ..errors import Forbidden, NotFound
from ..extensions import db
from ..models import Assessment, Employee, Enrolment, Mentoring, Notification, Recommendation, Role, User, UserRole
from .org import report_ids

R = Role

# What each role may do; relationships (whose data) are decided by the scopes and predicates below.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "org.browse": frozenset({R.SUPERVISOR, R.TRAINER, R.HR, R.ADMIN}),      # organisation tree and directory
    "employees.edit": frozenset({R.HR, R.ADMIN}),
    "imports.run": frozenset({R.HR, R.ADMIN}),
    "accounts.manage": frozenset({R.ADMIN}),                                # accounts, roles, resets, two-factor
    "audit.read": frozenset({R.ADMIN}),
    "models.edit": frozenset({R.HR, R.ADMIN}),
    "cycles.manage": frozenset({R.HR}),
    "assessments.administer": frozenset({R.HR}),                            # reopen, change the assessing supervisor
    "team.lead": frozenset({R.SUPERVISOR}),                                 # my team: rating, credits, analytics, probation
    "training.manage": frozenset({R.TRAINER, R.HR}),                        # catalogue, sessions, rosters, demand
    "training.assign": frozenset({R.TRAINER, R.HR, R.SUPERVISOR}),
    "credits.correct": frozenset({R.HR}),                                   # adjustments and reversals
    "credits.requirements": frozenset({R.HR}),
    "credits.compliance": frozenset({R.HR, R.ADMIN}),
    "certifications.edit": frozenset({R.HR}),                               # the review counts them: hr records them
    "mentoring.manage": frozenset({R.HR, R.SUPERVISOR}),
    "review.read": frozenset({R.HR, R.ADMIN}),                              # review runs and their recommendations
    "review.manage": frozenset({R.HR}),                                     # running, deciding, grade standards
    "review.finalise": frozenset({R.HR, R.ADMIN}),                          # an admin may be the second pair of eyes
    "appeals.resolve": frozenset({R.HR}),                                   # the appeals queue
    "settings.edit": frozenset({R.HR, R.ADMIN}),
    "settings.four_eyes": frozenset({R.ADMIN}),                             # only an administrator turns it off
    "analytics.organisation": frozenset({R.HR, R.ADMIN}),
    "exports.download": frozenset({R.SUPERVISOR, R.HR, R.ADMIN}),
    "dashboard.organisation": frozenset({R.TRAINER, R.HR, R.ADMIN}),        # headcounts by grade and org unit
    "dashboard.probation": frozenset({R.SUPERVISOR, R.HR}),
    "dashboard.demand": frozenset({R.TRAINER}),
    "dashboard.accounts": frozenset({R.ADMIN}),
}


def can(user, permission: str) -> bool:
    """Whether the account's roles allow the action (KeyError for an unknown permission name)."""
    allowed = PERMISSIONS[permission]
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.roles & allowed)


def require(user, permission: str) -> None:
    """Forbidden unless `can(user, permission)`."""
    if not can(user, permission):
        raise Forbidden()


# --- scopes: SELECTs of employee ids ------------------------------------------------------------


# The scope of those who see or read everyone: one object, so that `among` can leave its condition out ("id IN
# every id" makes planners join the whole table to itself, 80 ms at 100,000 people on PostgreSQL).
EVERYONE: Select = select(Employee.id)


def among(column, scope: Select):
    """The condition that an employee id column is in the scope (none at all for EVERYONE)."""
    return true() if scope is EVERYONE else column.in_(scope)


def _nobody() -> Select:
    return select(Employee.id).where(literal(False))


def sees_everyone(user) -> bool:
    """hr and admin see the whole organisation; trainers see the directory, to assign courses."""
    return user.has_role(R.HR, R.ADMIN, R.TRAINER)


def reads_everyone(user) -> bool:
    """hr and admin read everyone's personal results (trainers do not)."""
    return user.has_role(R.HR, R.ADMIN)


def leads_a_team(user) -> bool:
    """A supervisor linked to an employee record."""
    return user.employee_id is not None and user.has_role(R.SUPERVISOR)


def team_ids(user) -> Select:
    """SELECT of the people reporting to the user, directly or indirectly (nobody for non-supervisors); the same
    object within a request, so that what a page's charts and lists read of the team is read once."""
    if not has_request_context():
        return report_ids(user.employee_id) if leads_a_team(user) else _nobody()
    teams = g.setdefault("team_ids", {})
    if user.id not in teams:
        teams[user.id] = report_ids(user.employee_id) if leads_a_team(user) else _nobody()
    return teams[user.id]


def _self_and_team(user) -> Select:
    if user.employee_id is None:
        return _nobody()
    own = select(literal(user.employee_id).label("id"))
    if leads_a_team(user):
        return select(union(own, report_ids(user.employee_id)).subquery().c.id)
    return own


def visible_employee_ids(user) -> Select:
    """SELECT of the employee ids the user may see: use as `Employee.id.in_(visible_employee_ids(u))`."""
    return EVERYONE if sees_everyone(user) else _self_and_team(user)


def private_ids(user) -> Select:
    """SELECT of the people whose personal records (results, credits, certifications, grade) the user may
    read: everyone for hr and admin, else themself and their direct and indirect reports."""
    return EVERYONE if reads_everyone(user) else _self_and_team(user)


def credit_ids(user) -> Select:
    """SELECT of the people whose credit ledger the user may read (`can_see_credits`): everyone for trainers, hr and
    admin, else themself and their reports."""
    return EVERYONE if user.has_role(R.TRAINER) else private_ids(user)


def private_among(user, column, within=among):
    """The condition that an employee id column names someone whose personal records the user may read (as
    `private_ids`): no condition for hr and admin, else themself or one of their team, the team tested by
    `within(column, team_ids(user))` (`among` by default; a caller may pass a test that reads the team's ids first)."""
    if reads_everyone(user):
        return true()
    if user.employee_id is None:
        return within(column, team_ids(user))
    return or_(column == user.employee_id, within(column, team_ids(user)))


def assignable_ids(user) -> Select:
    """SELECT of the people the user may assign courses to: everyone for trainers and hr, own reports for
    supervisors, nobody otherwise."""
    if user.has_role(R.TRAINER, R.HR):
        return EVERYONE
    return team_ids(user)


PICKER_SCOPES = ("visible", "assignable", "mentoring")


def picker_scope(user, name: str) -> Select:
    """SELECT of the people a person picker offers and accepts (services/people.py), by the picker's scope name:
    "assignable" those the user may assign courses to, "mentoring" those whose pairings they manage, anything else
    the people the user may see."""
    if name == "assignable":
        return assignable_ids(user)
    if name == "mentoring" and mentoring_scope(user) is not None:
        return mentoring_scope(user)
    return visible_employee_ids(user)


def export_scope(user) -> Select:
    """SELECT of the people whose rows the user's exports may hold: everyone for hr and admin, else the team."""
    return private_ids(user) if reads_everyone(user) else team_ids(user)


def _within(ids: Select, employee_id: int) -> bool:
    found = ids.subquery()
    return db.session.scalar(select(found.c.id).where(found.c.id == employee_id)) is not None


# --- employees ------------------------------------------------------------------------------------


def can_see_employee(user, employee_id: int) -> bool:
    """Whether the user may see this employee's profile."""
    return sees_everyone(user) or _within(visible_employee_ids(user), employee_id)


def is_in_chain_above(user, employee_id: int) -> bool:
    """Whether the user is a supervisor somewhere above this employee (not the employee themself)."""
    return leads_a_team(user) and _within(report_ids(user.employee_id), employee_id)


def can_see_private(user, employee_id: int) -> bool:
    """Personal records: the person, their supervisor chain, hr and admin — not trainers."""
    return reads_everyone(user) or user.employee_id == employee_id or is_in_chain_above(user, employee_id)


def can_see_credits(user, employee_id: int) -> bool:
    """A person's credit ledger and yearly total: whoever may read their personal records, and trainers for
    everyone (they record the results that feed the ledger). Trainers still read no assessment results."""
    return user.has_role(R.TRAINER) or can_see_private(user, employee_id)


def can_size_gaps(user) -> bool:
    """Whether the user may say how large a gap must be when assigning by gap — which, stepped, reveals levels. Only
    those who read the results of everyone they may assign to: hr, and supervisors who are not also trainers.
    Trainers learn who has a gap (below the grade's target), never its size."""
    return reads_everyone(user) or not user.has_role(R.TRAINER)


def can_assign_to(user, employee_id: int) -> bool:
    """Whether the user may assign a course to this person."""
    return _within(assignable_ids(user), employee_id)


def is_in_team(user, employee_id: int) -> bool:
    """Whether the person reports to the user, directly or indirectly."""
    return is_in_chain_above(user, employee_id)


def _employee_or_404(employee_id: int | None, allowed) -> Employee:
    person = db.session.get(Employee, employee_id) if employee_id is not None else None
    if person is None or not allowed(person):
        raise NotFound()
    return person


def visible_employee_or_404(user, employee_id: int) -> Employee:
    """The employee, if the user may see them; NotFound otherwise."""
    return _employee_or_404(employee_id, lambda p: can_see_employee(user, p.id))


def private_employee_or_404(user, employee_id: int | None = None) -> Employee:
    """The person whose personal records are asked for (the user themself by default), if the user may read
    them; NotFound otherwise."""
    employee_id = user.employee_id if employee_id is None else employee_id
    return _employee_or_404(employee_id, lambda p: can_see_private(user, p.id))


def credits_employee_or_404(user, employee_id: int | None = None) -> Employee:
    """The person whose credit ledger is asked for (the user themself by default), if the user may read it
    (`can_see_credits`); NotFound otherwise."""
    employee_id = user.employee_id if employee_id is None else employee_id
    return _employee_or_404(employee_id, lambda p: can_see_credits(user, p.id))


def team_member_or_404(user, employee_id: int) -> Employee:
    """One of the user's direct or indirect reports; NotFound otherwise."""
    return _employee_or_404(employee_id, lambda p: is_in_team(user, p.id))


def may_assess_as_supervisor(employee: Employee) -> bool:
    """Whether this employee has an active account with the supervisor role (to assess someone as supervisor)."""
    account = db.session.scalar(select(User).where(User.employee_id == employee.id, User.active.is_(True)))
    return account is not None and account.has_role(R.SUPERVISOR)


def manages_accounts(actor) -> bool:
    """Whether an import run by this actor may create accounts and change roles or emails: admins, and the
    system itself (the CLI and the seed, actor None)."""
    return actor is None or actor.has_role(R.ADMIN)


# --- assessments ----------------------------------------------------------------------------------


def _assessment_or_404(assessment_id: int, allowed, query=None) -> Assessment:
    """The assessment (read by `query`, a SELECT of it by its "id" parameter, when given) if `allowed`."""
    if query is None:
        assessment = db.session.get(Assessment, assessment_id)
    else:
        assessment = db.session.execute(query, {"id": assessment_id}).unique().scalar_one_or_none()
    if assessment is None or not allowed(assessment):
        raise NotFound()
    return assessment


def is_rated_person(user, assessment: Assessment) -> bool:
    """The user is the person assessed."""
    return user.employee_id is not None and assessment.employee_id == user.employee_id


def is_assessing_supervisor(user, assessment: Assessment) -> bool:
    """The user is the supervisor who rates this assessment."""
    return leads_a_team(user) and assessment.supervisor_id == user.employee_id


def self_assessment_or_404(user, assessment_id: int, query=None) -> Assessment:
    """The user's own assessment (read by `query`, see _assessment_or_404); NotFound for anybody else's."""
    return _assessment_or_404(assessment_id, lambda a: is_rated_person(user, a), query)


def supervisor_assessment_or_404(user, assessment_id: int, query=None) -> Assessment:
    """An assessment the user is the assessing supervisor of (read by `query`); NotFound otherwise."""
    return _assessment_or_404(assessment_id, lambda a: is_assessing_supervisor(user, a), query)


def can_read_result(user, assessment: Assessment) -> bool:
    """hr and admin always; once completed, the employee, the assessing supervisor and the supervisor chain."""
    if reads_everyone(user):
        return True
    return assessment.is_completed and (is_rated_person(user, assessment) or is_assessing_supervisor(user, assessment)
                                        or is_in_chain_above(user, assessment.employee_id))


def result_or_404(user, assessment_id: int) -> Assessment:
    """A result the user may read; NotFound otherwise."""
    return _assessment_or_404(assessment_id, lambda a: can_read_result(user, a))


def shows_self_ratings(user, assessment: Assessment) -> bool:
    """Blind rating: in a blind cycle the assessing supervisor sees no self ratings before submitting their own;
    in a cycle that is not blind they see them once the self-assessment is submitted."""
    if not is_assessing_supervisor(user, assessment) or is_rated_person(user, assessment):
        return True
    if assessment.is_completed:
        return True
    return not assessment.cycle.blind and assessment.self_submitted


def shows_supervisor_comments(user, assessment: Assessment) -> bool:
    """The supervisor's comments reach the person (and the chain) once the assessment is completed; hr, admin and
    the assessing supervisor see them throughout."""
    return reads_everyone(user) or is_assessing_supervisor(user, assessment) or assessment.is_completed


# --- training -------------------------------------------------------------------------------------


def can_cancel(user, enrolment: Enrolment) -> bool:
    """Trainers and hr cancel any active enrolment; an employee cancels their own, unless someone assigned it."""
    if not enrolment.is_active:
        return False
    if can(user, "training.manage"):
        return True
    return enrolment.employee_id == user.employee_id and enrolment.assigned_by_id == user.id


def cancellable_enrolment_or_404(user, enrolment_id: int) -> Enrolment:
    """An enrolment the user may cancel: NotFound for somebody else's, Forbidden for an assigned course."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or not (can(user, "training.manage") or enrolment.employee_id == user.employee_id):
        raise NotFound()
    if enrolment.is_active and not can_cancel(user, enrolment):
        raise Forbidden()
    return enrolment


def mentoring_scope(user) -> Select | None:
    """SELECT of the mentees whose pairings the user manages (their team), or None for everyone (hr)."""
    return None if user.has_role(R.HR) else team_ids(user)


def can_pair(user, mentor: Employee, mentee: Employee) -> bool:
    """hr pairs anyone; a supervisor pairs two people of their team."""
    scope = mentoring_scope(user)
    return scope is None or (_within(scope, mentor.id) and _within(scope, mentee.id))


def mentoring_or_404(user, mentoring_id: int) -> Mentoring:
    """A pairing the user manages; NotFound otherwise."""
    item = db.session.get(Mentoring, mentoring_id)
    scope = mentoring_scope(user)
    if item is None or (scope is not None and not _within(scope, item.mentee_id)):
        raise NotFound()
    return item


def needs_two_factor(user, everyone: bool = False) -> bool:
    """Two-factor sign-in is required of hr and admin (of everyone when the bank says so)."""
    return everyone or user.has_role(R.HR, R.ADMIN)


# --- reviews and appeals --------------------------------------------------------------------------


def second_pair_of_eyes(user, decider_ids: set[int]) -> bool:
    """Four-eyes (双人复核): the account that finalises a review made none of its decisions — another hr
    colleague, or an administrator confirming them."""
    return user.id not in decider_ids


def can_respond(user, employee_id: int) -> bool:
    """Only the person concerned acknowledges or appeals their result or grade decision."""
    return user.employee_id is not None and user.employee_id == employee_id


def sees_responses(user, employee_id: int) -> bool:
    """A person's acknowledgements and appeals (which may be about their supervisor) are read by that person and
    by hr and admin — not by the supervisor chain."""
    return can_respond(user, employee_id) or reads_everyone(user)


def owns_upload(user, staged_meta: dict) -> bool:
    """A staged import file is confirmed only by the account that uploaded it."""
    return staged_meta.get("user") == user.id


def own_result_or_404(user, assessment_id: int) -> Assessment:
    """The user's own completed assessment, to acknowledge or appeal; NotFound otherwise."""
    return _assessment_or_404(assessment_id, lambda a: can_respond(user, a.employee_id) and a.is_completed)


def own_decision_or_404(user, recommendation_id: int) -> Recommendation:
    """The user's own grade decision of a finalised review, to acknowledge or appeal; NotFound otherwise."""
    item = db.session.get(Recommendation, recommendation_id)
    if item is None or not can_respond(user, item.employee_id) or not item.run.is_finalised:
        raise NotFound()
    return item


def init_app(app) -> None:
    """Expose the predicates to templates (`can('review.manage')` checks the current user)."""
    from flask_login import current_user

    app.jinja_env.globals.update(
        can=lambda permission: can(current_user, permission),
        can_cancel=lambda enrolment: can_cancel(current_user, enrolment),
        can_see_credits=lambda employee_id: can_see_credits(current_user, employee_id),
        can_size_gaps=lambda: can_size_gaps(current_user),
    )


def own_job_or_404(user, job_id: str):
    """A background job, only for the account that started it (anyone else is told it does not exist)."""
    from ..models.job import Job

    job = db.session.get(Job, job_id) if job_id and len(job_id) <= 32 else None
    if job is None or job.user_id != user.id:
        raise NotFound()
    return job


def users_with(permission: str) -> Select:
    """SELECT of the ids of the active accounts whose roles allow the action (who is told of an appeal to resolve)."""
    return (select(User.id).join(UserRole, UserRole.user_id == User.id)
            .where(User.active.is_(True), UserRole.role.in_(PERMISSIONS[permission])).distinct())


def own_notification_or_404(user, notification_id: int):
    """One of the account's own notifications (anyone else's does not exist for it)."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != user.id:
        raise NotFound()
    return item
