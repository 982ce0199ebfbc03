"""Training pages: my training, credits and certifications; catalogue, sessions, rosters, assignment, demand
(trainer, hr); team credits (supervisor); compliance, requirements, adjustments and mentoring (hr)."""
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..formutil import options
from ..i18n import localized
from ..pagination import paginate_rows
from ..models import (
    Certification, Course, CourseType, CreditEntry, Cycle, CycleStatus, Employee, EmployeeStatus, Enrolment,
    Mentoring, OrgUnit, Role, TrainingSession,
)
from ..security import roles_required
from ..services import org as org_service
from ..services import training as service
from ..services.org import EmployeeFilters, employee_query
from ..services.scope import assignable_ids, can_see_private, org_subtree_ids, report_ids
from . import bp
from .forms import (
    DELIVERY_LABELS, TYPE_LABELS, ActionForm, AdjustForm, AssignForm, CertificationForm, CourseForm, MentoringForm,
    RequirementsForm, ReverseForm, RosterForm, SessionForm, UndoForm, YearForm,
)

STAFF = (Role.TRAINER, Role.HR)


@bp.app_context_processor
def _labels():
    return {"course_type_label": lambda t: TYPE_LABELS[t], "delivery_label": lambda d: DELIVERY_LABELS[d]}


def _employee_by_staff_no(staff_no: str) -> Employee | None:
    return db.session.scalar(select(Employee).where(Employee.staff_no == (staff_no or "").strip()))


# --- the employee's pages -------------------------------------------------------------------------


@bp.route("/training")
@login_required
def mine():
    """My training: assigned, due, overdue, completed, recommended courses, and open sessions to enrol in."""
    me = current_user.employee
    if me is None:
        abort(404)
    return render_template("training/mine.html", enrolments=service.my_enrolments(me.id), is_overdue=service.is_overdue,
                           recommendations=service.recommendations(me), sessions=service.open_sessions(),
                           action=ActionForm(), me=me)


@bp.route("/training/sessions/<int:session_id>/enrol", methods=["POST"])
@login_required
def enrol(session_id: int):
    """Take a seat in an open session."""
    session = db.get_or_404(TrainingSession, session_id)
    if current_user.employee is None or not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.enrol_in_session(session, current_user.employee, actor=current_user)
        flash(_("You are enrolled in %(course)s on %(date)s.", course=localized(session.course, "title"),
                date=session.starts_at.strftime("%Y-%m-%d %H:%M")), "success")
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(url_for("training.mine"))


@bp.route("/training/enrolments/<int:enrolment_id>/cancel", methods=["POST"])
@login_required
def cancel(enrolment_id: int):
    """Cancel my own active enrolment (trainers and hr may cancel anyone's)."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    if not current_user.has_role(*STAFF):
        if enrolment.employee_id != current_user.employee_id:
            abort(404)
        if enrolment.assigned_by_id != current_user.id:
            abort(403)  # a course someone assigned is cancelled by a trainer or hr
    if ActionForm().validate_on_submit():
        try:
            service.cancel(enrolment, actor=current_user)
            flash(_("The enrolment is cancelled."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    return redirect(request.referrer or url_for("training.mine"))


def _year() -> int:
    form = YearForm(request.args)
    return form.year.data if form.validate() and form.year.data else date.today().year


@bp.route("/training/credits")
@bp.route("/employees/<int:employee_id>/credits")
@login_required
def credits(employee_id: int | None = None):
    """A ledger with the year's total against the requirement: mine, or someone I may see privately."""
    person = db.session.get(Employee, employee_id) if employee_id else current_user.employee
    if person is None or not can_see_private(current_user, person.id):
        abort(404)
    year = _year()
    earned, required = service.my_year(person, year)
    page = db.paginate(service.ledger(person.id), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    reversed_ids = set(db.session.scalars(select(CreditEntry.reverses_id).where(
        CreditEntry.employee_id == person.id, CreditEntry.reverses_id.is_not(None))))
    return render_template("training/credits.html", person=person, year=year, earned=earned, required=required,
                           page=page, reversed_ids=reversed_ids, adjust_form=AdjustForm(), reverse_form=ReverseForm())


@bp.route("/employees/<int:employee_id>/credits/adjust", methods=["POST"])
@roles_required(Role.HR)
def adjust(employee_id: int):
    """hr: a manual credit adjustment with a reason."""
    person = db.get_or_404(Employee, employee_id)
    form = AdjustForm()
    if form.validate_on_submit():
        try:
            service.adjust(person, form.amount.data, form.reason.data, form.on.data, actor=current_user)
            flash(_("Adjustment recorded."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    else:
        flash(_("Give an amount and a reason."), "error")
    return redirect(url_for("training.credits", employee_id=person.id))


@bp.route("/credits/<int:entry_id>/reverse", methods=["POST"])
@roles_required(Role.HR)
def reverse(entry_id: int):
    """hr: reverse a ledger line with a reason (the line itself stays)."""
    entry = db.get_or_404(CreditEntry, entry_id)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            service.reverse(entry, form.reason.data, actor=current_user)
            flash(_("The entry is reversed."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    else:
        flash(_("Give a reason."), "error")
    return redirect(url_for("training.credits", employee_id=entry.employee_id))


@bp.route("/training/certifications", methods=["GET", "POST"])
@bp.route("/employees/<int:employee_id>/certifications", methods=["GET", "POST"])
@login_required
def certifications(employee_id: int | None = None):
    """Certifications of a person (mine by default); hr records them (the annual review relies on them)."""
    person = db.session.get(Employee, employee_id) if employee_id else current_user.employee
    if person is None or not can_see_private(current_user, person.id):
        abort(404)
    may_edit = current_user.has_role(Role.HR)  # the review counts certifications: hr records them from the certificate
    form = CertificationForm()
    if may_edit and form.validate_on_submit():
        try:
            service.save_certification(person, {k: form[k].data for k in ("name", "issuer", "number", "issued_on", "expires_on")},
                                       actor=current_user)
            flash(_("Certification saved."), "success")
            return redirect(request.path)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    items = db.session.scalars(select(Certification).where(Certification.employee_id == person.id)
                               .order_by(Certification.expires_on.is_(None), Certification.expires_on)).all()
    return render_template("training/certifications.html", person=person, items=items, form=form, may_edit=may_edit,
                           expiring=service.expiring_soon, today=date.today())


# --- catalogue, sessions, rosters (trainer, hr) ----------------------------------------------------


@bp.route("/catalogue")
@roles_required(*STAFF)
def catalogue():
    """The course catalogue."""
    page = db.paginate(service.courses(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("training/catalogue.html", page=page)


@bp.route("/catalogue/new", methods=["GET", "POST"])
@bp.route("/catalogue/<int:course_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def course(course_id: int | None = None):
    """Create or edit a course; an existing course also lists its sessions."""
    item = db.get_or_404(Course, course_id) if course_id else None
    form = CourseForm(obj=item)
    if item is not None and not form.is_submitted():
        form.type.data, form.delivery.data, form.competencies.data = item.type.value, item.delivery.value, item.competency_text
    if form.validate_on_submit():
        values = service.CourseValues(code=form.code.data, title_zh=form.title_zh.data, title_en=form.title_en.data,
                                      type=form.type.data, delivery=form.delivery.data, hours=form.hours.data,
                                      credits=form.credits.data, competencies=service.parse_competencies(form.competencies.data),
                                      description_zh=form.description_zh.data or "", description_en=form.description_en.data or "",
                                      active=form.active.data)
        try:
            item = service.save_course(values, item, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Course saved."), "success")
            return redirect(url_for("training.course", course_id=item.id))
    return render_template("training/course.html", form=form, course=item)


@bp.route("/catalogue/<int:course_id>/sessions/new", methods=["GET", "POST"])
@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def session_form(course_id: int | None = None, session_id: int | None = None):
    """Plan a session of a course, or change one."""
    session = db.get_or_404(TrainingSession, session_id) if session_id else None
    item = session.course if session else db.get_or_404(Course, course_id)
    form = SessionForm(obj=session)
    if session is not None and not form.is_submitted():
        form.trainer.data = session.trainer.staff_no if session.trainer else ""
    if form.validate_on_submit():
        trainer = _employee_by_staff_no(form.trainer.data) if form.trainer.data else None
        values = {"starts_at": form.starts_at.data, "ends_at": form.ends_at.data, "place": form.place.data or "",
                  "trainer_id": trainer.id if trainer else None, "capacity": form.capacity.data, "open": form.open.data}
        try:
            if form.trainer.data and trainer is None:
                raise DomainError(_("Unknown staff number."))
            session = service.save_session(item, values, session, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Session saved."), "success")
            return redirect(url_for("training.roster", course_id=item.id, session=session.id))
    return render_template("training/session.html", form=form, course=item, session=session)


@bp.route("/catalogue/<int:course_id>/roster", methods=["GET", "POST"])
@roles_required(*STAFF)
def roster(course_id: int):
    """Everyone enrolled in a course (or one session): record attendance and results one by one or in bulk."""
    item = db.get_or_404(Course, course_id)
    session_id = request.args.get("session", type=int)
    query = select(Enrolment).join(Employee).where(Enrolment.course_id == item.id)
    if session_id:
        query = query.where(Enrolment.session_id == session_id)
    enrolments = db.session.scalars(query.order_by(Enrolment.status, Employee.staff_no)).all()
    form = RosterForm()
    form.enrolments.choices = options((e.id, e.id) for e in enrolments)
    if form.validate_on_submit():
        chosen = [e for e in enrolments if e.id in set(form.enrolments.data)]
        try:
            for enrolment in chosen:
                service.record_result(enrolment, form.outcome.data, score=form.score.data, on=form.on.data,
                                      actor=current_user, commit=False)
            db.session.commit()
            flash(ngettext("Recorded for %(num)s person.", "Recorded for %(num)s people.", len(chosen)), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        return redirect(request.full_path)
    return render_template("training/roster.html", course=item, enrolments=enrolments, form=form, session_id=session_id,
                           undo_form=UndoForm(), action=ActionForm(), is_overdue=service.is_overdue)


@bp.route("/enrolments/<int:enrolment_id>/undo", methods=["POST"])
@roles_required(*STAFF)
def undo(enrolment_id: int):
    """Undo a completion: a reversing ledger entry with the reason."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    form = UndoForm()
    if form.validate_on_submit():
        try:
            service.undo_completion(enrolment, form.reason.data, actor=current_user)
            flash(_("The completion is undone and its credits reversed."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    else:
        flash(_("Give a reason."), "error")
    return redirect(url_for("training.roster", course_id=enrolment.course_id))


@bp.route("/demand")
@roles_required(*STAFF)
def demand():
    """Per course, how many people have a gap on a competency it develops."""
    return render_template("training/demand.html", rows=service.demand())


# --- assignment (trainer, hr; supervisors for their reports) --------------------------------------


def _fill_assign(form: AssignForm) -> None:
    everything = _("All")
    form.course.choices = options((c.id, f"{c.code} {localized(c, 'title')}") for c in db.session.scalars(service.courses(active_only=True)))
    form.org_unit.choices = options([("", everything)] + [(str(u.id), "\u00a0\u00a0" * d + localized(u)) for u, d, _n in org_service.org_tree()])
    form.position.choices = options([("", everything)] + [(str(p.id), localized(p)) for p in org_service.positions()])
    form.grade.choices = form.grade_options(everything)
    cycles = db.session.scalars(select(Cycle).where(Cycle.status != CycleStatus.DRAFT).order_by(Cycle.period_end.desc())).all()
    form.cycle.choices = options([("", "—")] + [(str(c.id), f"{c.code} {localized(c)}") for c in cycles])


def _targets(form: AssignForm) -> list[int]:
    """The ids the wizard's choices name, within what the user may assign."""
    scope = assignable_ids(current_user)
    if form.mode.data == "one":
        person = _employee_by_staff_no(form.staff_no.data)
        allowed = person is not None and db.session.scalar(select(Employee.id).where(Employee.id == person.id, Employee.id.in_(scope)))
        if not allowed:
            raise DomainError(_("Unknown staff number, or not someone you may assign courses to."))
        return [person.id]
    if form.mode.data == "gap":
        if not form.competency.data or not form.cycle.data:
            raise DomainError(_("Choose the competency, the cycle and the gap."))
        return service.gap_candidates(form.competency.data.strip().upper(), int(form.cycle.data), float(form.min_gap.data or 1), within=scope)
    filters = EmployeeFilters(org_unit_id=int(form.org_unit.data) if form.org_unit.data else None,
                              position_id=int(form.position.data) if form.position.data else None,
                              grade=form.grade.data or None, status="active")
    query = employee_query(current_user, filters).where(Employee.id.in_(scope)).with_only_columns(Employee.id)
    return list(db.session.scalars(query))


@bp.route("/assign", methods=["GET", "POST"])
@roles_required(Role.TRAINER, Role.HR, Role.SUPERVISOR)
def assign():
    """Assign a course: count the people first, then confirm; report who was skipped."""
    form = AssignForm() if request.method == "POST" else AssignForm(request.args)
    _fill_assign(form)
    preview = result = None
    if request.method == "POST" and form.validate():
        try:
            targets = _targets(form)
            if form.submit.data and form.confirm.data == "1":
                result = service.assign(db.get_or_404(Course, form.course.data), targets, form.due_date.data, actor=current_user)
                names = {e.id: e for e in db.session.scalars(select(Employee).where(
                    Employee.id.in_(result.skipped_enrolled + result.skipped_completed)))}
                return render_template("training/assign.html", form=form, result=result, names=names)
            preview = db.session.scalars(select(Employee).where(Employee.id.in_(targets)).order_by(Employee.staff_no)).all()
            form.confirm.data = "1"
        except DomainError as error:
            flash(str(error), "error")
    return render_template("training/assign.html", form=form, preview=preview, result=result)


# --- credits overviews ----------------------------------------------------------------------------


@bp.route("/team/credits")
@roles_required(Role.SUPERVISOR)
def team_credits():
    """My reports' credits this year against their requirement."""
    year = _year()
    rows = db.session.execute(service.yearly_status(report_ids(current_user.employee_id), year)).all()
    return render_template("training/team_credits.html", rows=rows, year=year, unit=None, page=None)


@bp.route("/credits/compliance")
@roles_required(Role.HR, Role.ADMIN)
def compliance():
    """Credit compliance by org unit (each unit includes its sub-units)."""
    year = _year()
    counts = {unit: (n, ok) for unit, n, ok in service.compliance_by_unit(year)}
    tree = [(u, d) for u, d, _n in org_service.org_tree() if u.id in counts]
    return render_template("training/compliance.html", tree=tree, counts=counts, year=year)


@bp.route("/credits/compliance/<int:unit_id>")
@roles_required(Role.HR, Role.ADMIN)
def unit_credits(unit_id: int):
    """The people of an org unit and its sub-units with their year's credits against the requirement."""
    unit = db.get_or_404(OrgUnit, unit_id)
    year = _year()
    ids = select(Employee.id).where(Employee.org_unit_id.in_(org_subtree_ids(unit.id)),
                                    Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE]))
    page = paginate_rows(service.yearly_status(ids, year))
    return render_template("training/team_credits.html", rows=page.items, page=page, year=year, unit=unit)


@bp.route("/credits/requirements", methods=["GET", "POST"])
@roles_required(Role.HR)
def requirements():
    """hr: the yearly credit requirement per grade."""
    current = service.requirements()
    form = RequirementsForm(data={g.value: v for g, v in current.items()})
    if form.validate_on_submit():
        try:
            service.set_requirements({g: form[g.value].data for g in current}, actor=current_user)
            flash(_("Requirements saved."), "success")
            return redirect(url_for("training.requirements"))
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    return render_template("training/requirements.html", form=form, grades=list(current))


@bp.route("/mentoring", methods=["GET", "POST"])
@roles_required(Role.HR, Role.SUPERVISOR)
def mentoring():
    """Pair an experienced manager with a new one (hr; supervisors within their team) and complete pairings."""
    form = MentoringForm()
    form.course.choices = options((c.id, f"{c.code} {localized(c, 'title')}") for c in db.session.scalars(
        service.courses(active_only=True).where(Course.type == CourseType.MENTORING)))
    scope = None if current_user.has_role(Role.HR) else set(db.session.scalars(report_ids(current_user.employee_id)))
    if form.validate_on_submit():
        mentor, mentee = _employee_by_staff_no(form.mentor.data), _employee_by_staff_no(form.mentee.data)
        try:
            if mentor is None or mentee is None or (scope is not None and not {mentor.id, mentee.id} <= scope):
                raise DomainError(_("Unknown staff number, or not someone in your team."))
            service.pair(mentor, mentee, db.get_or_404(Course, form.course.data), actor=current_user)
            flash(_("Pairing created."), "success")
            return redirect(url_for("training.mentoring"))
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    query = select(Mentoring).order_by(Mentoring.status, Mentoring.started_on.desc())
    if scope is not None:
        query = query.where(Mentoring.mentee_id.in_(scope or [-1]))
    return render_template("training/mentoring.html", form=form, items=db.session.scalars(query).all(), action=ActionForm())


@bp.route("/mentoring/<int:mentoring_id>/complete", methods=["POST"])
@roles_required(Role.HR, Role.SUPERVISOR)
def complete_mentoring(mentoring_id: int):
    """Complete a pairing: both earn the course's credits."""
    item = db.get_or_404(Mentoring, mentoring_id)
    if not current_user.has_role(Role.HR) and item.mentee_id not in set(db.session.scalars(report_ids(current_user.employee_id))):
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            service.complete_mentoring(item, actor=current_user)
            flash(_("Pairing completed: both earned %(n)s credits.", n=item.course.credits), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
    return redirect(url_for("training.mentoring"))
