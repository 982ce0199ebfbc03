"""Training pages: my training, credits and certifications; catalogue, sessions, rosters, assignment, demand
(trainer, hr); team credits (supervisor); compliance, requirements, adjustments and mentoring (hr)."""
from uuid import uuid4

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import DomainError, FieldError, NotFound
from ..extensions import db
from ..formutil import competency_options, edit_form, grade_options, options, org_unit_options, show_error
from ..handlers import id_arg
from ..i18n import localized
from ..models import Course, CourseType, CreditEntry, Employee, EmployeeStatus, Enrolment, OrgUnit, TrainingSession
from ..security import permission_required
from ..services import access, audit
from ..services import org as org_service
from ..services.assessments.cycles import started_cycles
from ..services.ksa.versions import published_competencies
from ..services.training import catalogue, certifications, enrolment, ledger, mentoring, recommendations
from ..timeutil import bank_today
from . import bp
from .forms import (
    DELIVERY_LABELS,
    TYPE_LABELS,
    ActionForm,
    AdjustForm,
    AssignForm,
    CertificationForm,
    CourseForm,
    MentoringForm,
    RequirementsForm,
    ReverseForm,
    RosterForm,
    SessionForm,
    UndoForm,
    YearForm,
)


@bp.app_context_processor
def _labels():
    return {"course_type_label": lambda t: TYPE_LABELS[t], "delivery_label": lambda d: DELIVERY_LABELS[d]}


# --- the employee's pages -------------------------------------------------------------------------


@bp.route("/training")
@login_required
def mine():
    """My training: assigned, due, overdue, completed, recommended courses, and open sessions to enrol in."""
    me = current_user.employee
    if me is None:
        raise NotFound()
    mine, sessions = enrolment.my_enrolments(me.id), catalogue.open_sessions()
    return render_template("training/mine.html", enrolments=mine, today=bank_today(), sessions=sessions,
                           standing=enrolment.session_standing(mine, sessions),
                           recommendations=recommendations.recommendations(me), action=ActionForm(), me=me)


@bp.route("/training/sessions/<int:session_id>/enrol", methods=["POST"])
@login_required
def enrol(session_id: int):
    """Take a seat in an open session."""
    session = db.get_or_404(TrainingSession, session_id)
    if current_user.employee is None or not ActionForm().validate_on_submit():
        raise DomainError(_("The request could not be understood."))
    try:
        enrolment.enrol_in_session(session, current_user.employee, actor=current_user)
        flash(_("You are enrolled in %(course)s on %(date)s.", course=localized(session.course, "title"),
                date=session.starts_at.strftime("%Y-%m-%d %H:%M")), "success")
    except DomainError as error:
        flash(str(error), "error")
    return redirect(url_for("training.mine"))


@bp.route("/training/enrolments/<int:enrolment_id>/cancel", methods=["POST"])
@login_required
def cancel(enrolment_id: int):
    """Cancel my own active enrolment (trainers and hr may cancel anyone's)."""
    item = access.cancellable_enrolment_or_404(current_user, enrolment_id)
    if ActionForm().validate_on_submit():
        try:
            enrolment.cancel(item, actor=current_user)
            flash(_("The enrolment is cancelled."), "success")
        except DomainError as error:
            flash(str(error), "error")
    return redirect(request.referrer or url_for("training.mine"))


def _year() -> int:
    form = YearForm(request.args)
    return form.year.data if form.validate() and form.year.data else bank_today().year


@bp.route("/training/credits")
@bp.route("/employees/<int:employee_id>/credits")
@login_required
def credits(employee_id: int | None = None):
    """The year's ledger lines and total against the requirement: mine, or of someone whose credits I may see
    (their supervisors, trainers, hr and admin)."""
    person = access.credits_employee_or_404(current_user, employee_id)
    year = _year()
    audit.record_view(current_user, "credits", person.id, year=year)
    earned, required = ledger.my_year(person, year)
    page = db.paginate(ledger.ledger(person.id, year), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("training/credits.html", person=person, year=year, earned=earned, required=required,
                           page=page, reversed_ids=ledger.reversed_ids(person.id), adjust_form=AdjustForm(key=uuid4().hex),
                           reverse_form=ReverseForm())


@bp.route("/employees/<int:employee_id>/credits/adjust", methods=["POST"])
@permission_required("credits.correct")
def adjust(employee_id: int):
    """hr: a manual credit adjustment with a reason."""
    person = db.get_or_404(Employee, employee_id)
    form = AdjustForm()
    if form.validate_on_submit():
        try:
            ledger.adjust(person, form.amount.data, form.reason.data, form.on.data, actor=current_user, key=form.key.data)
            flash(_("Adjustment recorded."), "success")
        except DomainError as error:
            flash(str(error), "error")
    else:
        flash(_("Give an amount and a reason."), "error")
    return redirect(url_for("training.credits", employee_id=person.id))


@bp.route("/credits/<int:entry_id>/reverse", methods=["POST"])
@permission_required("credits.correct")
def reverse(entry_id: int):
    """hr: reverse a ledger line with a reason (the line itself stays)."""
    entry = db.get_or_404(CreditEntry, entry_id)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            ledger.reverse(entry, form.reason.data, actor=current_user)
            flash(_("The entry is reversed."), "success")
        except DomainError as error:
            flash(str(error), "error")
    else:
        flash(_("Give a reason."), "error")
    return redirect(url_for("training.credits", employee_id=entry.employee_id))


@bp.route("/training/certifications", methods=["GET", "POST"], endpoint="certifications")
@bp.route("/employees/<int:employee_id>/certifications", methods=["GET", "POST"], endpoint="certifications")
@login_required
def certifications_page(employee_id: int | None = None):
    """Certifications of a person (mine by default); hr records them (the annual review relies on them)."""
    person = access.private_employee_or_404(current_user, employee_id)
    if request.method == "GET":
        audit.record_view(current_user, "certifications", person.id)
    may_edit = access.can(current_user, "certifications.edit")
    form = CertificationForm()
    if may_edit and form.validate_on_submit():
        try:
            certifications.save_certification(
                person, {k: form[k].data for k in ("name", "issuer", "number", "issued_on", "expires_on")}, actor=current_user)
            flash(_("Certification saved."), "success")
            return redirect(request.path)
        except DomainError as error:
            flash(str(error), "error")
    return render_template("training/certifications.html", person=person, items=certifications.certifications_of(person.id),
                           form=form, may_edit=may_edit, expiring=certifications.expiring_soon, today=bank_today())


# --- catalogue, sessions, rosters (trainer, hr) ----------------------------------------------------


@bp.route("/catalogue", endpoint="catalogue")
@permission_required("training.manage")
def catalogue_page():
    """The course catalogue."""
    page = db.paginate(catalogue.courses(), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("training/catalogue.html", page=page)


def _course_values(form: CourseForm) -> catalogue.CourseValues:
    return catalogue.CourseValues(
        code=form.code.data, title_zh=form.title_zh.data, title_en=form.title_en.data, type=form.type.data,
        delivery=form.delivery.data, hours=form.hours.data, credits=form.credits.data,
        competencies=form.competency_levels(), description_zh=form.description_zh.data or "",
        description_en=form.description_en.data or "", active=form.active.data)


@bp.route("/catalogue/new", methods=["GET", "POST"])
@bp.route("/catalogue/<int:course_id>", methods=["GET", "POST"])
@permission_required("training.manage")
def course(course_id: int | None = None):
    """Create or edit a course; an existing course also lists its sessions."""
    item = db.get_or_404(Course, course_id) if course_id else None
    form = edit_form(CourseForm, item)
    if item is not None and not form.is_submitted():
        form.type.data, form.delivery.data = item.type.value, item.delivery.value
    form.fill_competencies(published_competencies())
    if form.validate_on_submit():
        try:
            item = catalogue.save_course(_course_values(form), item, actor=current_user)
        except DomainError as error:
            show_error(form, error)
        else:
            flash(_("Course saved."), "success")
            return redirect(url_for("training.course", course_id=item.id))
    return render_template("training/course.html", form=form, course=item)


@bp.route("/catalogue/<int:course_id>/sessions/new", methods=["GET", "POST"])
@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@permission_required("training.manage")
def session_form(course_id: int | None = None, session_id: int | None = None):
    """Plan a session of a course, or change one."""
    session = db.get_or_404(TrainingSession, session_id) if session_id else None
    item = session.course if session else db.get_or_404(Course, course_id)
    form = edit_form(SessionForm, session)
    ask_past = form.confirm_past.data  # once asked, the confirmation stays on the form
    if session is not None and not form.is_submitted():
        form.trainer.show(session.trainer)
    if form.validate_on_submit():
        trainer = form.trainer.person
        values = {"starts_at": form.starts_at.data, "ends_at": form.ends_at.data, "place": form.place.data or "",
                  "trainer_id": trainer.id if trainer else None, "capacity": form.capacity.data, "open": form.open.data}
        try:
            session = catalogue.save_session(item, values, session, actor=current_user, confirm_past=form.confirm_past.data)
        except DomainError as error:
            show_error(form, error)
            ask_past = isinstance(error, catalogue.PastSession)
        else:
            flash(_("Session saved."), "success")
            return redirect(url_for("training.roster", course_id=item.id, session=session.id))
    return render_template("training/session.html", form=form, course=item, session=session, ask_past=ask_past)


@bp.route("/catalogue/<int:course_id>/roster", methods=["GET", "POST"])
@permission_required("training.manage")
def roster(course_id: int):
    """Everyone enrolled in a course (or one session): record attendance and results one by one or in bulk."""
    item = db.get_or_404(Course, course_id)
    session_id = id_arg("session")
    enrolments = enrolment.roster(item, session_id)
    form = RosterForm()
    form.enrolments.choices = options((e.id, e.id) for e in enrolments)
    if form.validate_on_submit():
        chosen = [e for e in enrolments if e.id in set(form.enrolments.data)]
        try:
            done = enrolment.record_results(chosen, form.outcome.data, score=form.score.data, on=form.on.data,
                                            actor=current_user)
        except DomainError as error:
            flash(str(error), "error")
        else:
            _flash_recorded(done)
        return redirect(request.full_path)
    return render_template("training/roster.html", course=item, enrolments=enrolments, form=form, session_id=session_id,
                           undo_form=UndoForm(), action=ActionForm(), today=bank_today())


def _flash_recorded(done: enrolment.Recorded) -> None:
    """Say how many results were recorded, and how many were there already (a second click changes nothing)."""
    if done.recorded:
        flash(ngettext("Recorded for %(num)s person.", "Recorded for %(num)s people.", done.recorded), "success")
    if done.unchanged and not done.recorded:
        flash(_("These results were already recorded: nothing changed."), "info")
    elif done.unchanged:
        flash(_("Already recorded, left unchanged: %(n)s.", n=done.unchanged), "info")


@bp.route("/enrolments/<int:enrolment_id>/undo", methods=["POST"])
@permission_required("training.manage")
def undo(enrolment_id: int):
    """Undo a completion: a reversing ledger entry with the reason."""
    item = db.get_or_404(Enrolment, enrolment_id)
    form = UndoForm()
    if form.validate_on_submit():
        try:
            enrolment.undo_completion(item, form.reason.data, actor=current_user)
            flash(_("The completion is undone and its credits reversed."), "success")
        except DomainError as error:
            flash(str(error), "error")
    else:
        flash(_("Give a reason."), "error")
    return redirect(url_for("training.roster", course_id=item.course_id))


@bp.route("/demand")
@permission_required("training.manage")
def demand():
    """Per course, how many people have a gap on a competency it develops."""
    return render_template("training/demand.html", rows=recommendations.demand())


# --- assignment (trainer, hr; supervisors for their reports) --------------------------------------


def _fill_assign(form: AssignForm) -> None:
    everything = _("All")
    form.course.choices = options((c.id, f"{c.code} {localized(c, 'title')}")
                                  for c in db.session.scalars(catalogue.courses(active_only=True)))
    form.org_unit.choices = org_unit_options(everything)
    form.position.choices = options([("", everything)] + [(str(p.id), localized(p)) for p in org_service.positions()])
    form.grade.choices = grade_options(everything)
    form.cycle.choices = options([("", "—")] + [(str(c.id), f"{c.code} {localized(c)}") for c in started_cycles()])
    form.competency.choices = competency_options(published_competencies(), blank="—")
    if form.mode.data != "one":
        form.staff_no.data = ""  # a person left in the hidden field of another mode is not looked for


def _targets(form: AssignForm) -> list[int]:
    """The ids the wizard's choices name, within what the user may assign (the person picker offers and accepts
    only those)."""
    scope = access.assignable_ids(current_user)
    if form.mode.data == "one":
        if form.staff_no.person is None:
            raise FieldError("staff_no", _("Choose the employee: type a staff number or a name."))
        return [form.staff_no.person.id]
    if form.mode.data == "gap":
        if not form.competency.data or not form.cycle.data:
            raise DomainError(_("Choose the competency, the cycle and the gap."))
        code = form.competency.data.strip().upper()
        # A trainer's choice of gap size is ignored: stepping it would reveal each person's level.
        min_gap = float(form.min_gap.data or 1) if access.can_size_gaps(current_user) else None
        return enrolment.gap_candidates(code, int(form.cycle.data), min_gap, within=scope)
    filters = org_service.EmployeeFilters(org_unit_id=int(form.org_unit.data) if form.org_unit.data else None,
                                          position_id=int(form.position.data) if form.position.data else None,
                                          grade=form.grade.data or None, status="active")
    return list(db.session.scalars(org_service.employee_query(scope, filters).with_only_columns(Employee.id)))


@bp.route("/assign", methods=["GET", "POST"])
@permission_required("training.assign")
def assign():
    """Assign a course: count the people first, then confirm; report who was skipped."""
    form = AssignForm() if request.method == "POST" else AssignForm(request.args)
    _fill_assign(form)
    if not access.can_size_gaps(current_user):
        del form.min_gap  # trainers: any gap counts, whatever size is sent
    preview = None
    if request.method == "POST" and form.validate():
        try:
            targets = _targets(form)
            if form.submit.data and form.confirm.data == "1":
                result = enrolment.assign(db.get_or_404(Course, form.course.data), targets, form.due_date.data, actor=current_user)
                names = {e.id: e for e in db.session.scalars(select(Employee).where(
                    Employee.id.in_(result.skipped_enrolled + result.skipped_completed)))}
                return render_template("training/assign.html", form=form, result=result, names=names)
            preview = db.session.scalars(select(Employee).where(Employee.id.in_(targets)).order_by(Employee.staff_no)).all()
            form.confirm.data = "1"
        except DomainError as error:
            show_error(form, error)
    return render_template("training/assign.html", form=form, preview=preview, result=None)


# --- credits overviews ----------------------------------------------------------------------------


@bp.route("/team/credits")
@permission_required("team.lead")
def team_credits():
    """My reports' credits this year against their requirement."""
    year = _year()
    page, rows = _credit_page(select(Employee).where(Employee.id.in_(access.team_ids(current_user))), year)
    return render_template("training/team_credits.html", rows=rows, year=year, unit=None, page=page)


@bp.route("/credits/compliance")
@permission_required("credits.compliance")
def compliance():
    """Credit compliance by org unit (each unit includes its sub-units)."""
    year = _year()
    counts = {unit: (n, ok) for unit, n, ok in ledger.compliance_by_unit(year)}
    tree = [(u, d) for u, d, _n in org_service.org_tree() if u.id in counts]
    return render_template("training/compliance.html", tree=tree, counts=counts, year=year)


@bp.route("/credits/compliance/<int:unit_id>")
@permission_required("credits.compliance")
def unit_credits(unit_id: int):
    """The people of an org unit and its sub-units with their year's credits against the requirement."""
    unit = db.get_or_404(OrgUnit, unit_id)
    year = _year()
    people = select(Employee).where(Employee.org_unit_id.in_(org_service.org_subtree_ids(unit.id)),
                                    Employee.status.in_([EmployeeStatus.PROBATION, EmployeeStatus.ACTIVE]))
    page, rows = _credit_page(people, year)
    return render_template("training/team_credits.html", rows=rows, page=page, year=year, unit=unit)


def _credit_page(people, year: int):
    """A page of the people (by staff number) and their year's credits against the requirement, counted for that
    page's people only."""
    page = db.paginate(people.order_by(Employee.staff_no), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    rows = db.session.execute(ledger.yearly_status([e.id for e in page.items], year)).all() if page.items else []
    return page, rows


@bp.route("/credits/requirements", methods=["GET", "POST"])
@permission_required("credits.requirements")
def requirements():
    """hr: the yearly credit requirement per grade."""
    current = ledger.requirements()
    form = RequirementsForm(data={g.value: v for g, v in current.items()})
    if form.validate_on_submit():
        try:
            ledger.set_requirements({g: form[g.value].data for g in current}, actor=current_user)
            flash(_("Requirements saved."), "success")
            return redirect(url_for("training.requirements"))
        except DomainError as error:
            flash(str(error), "error")
    return render_template("training/requirements.html", form=form, grades=list(current))


@bp.route("/mentoring", methods=["GET", "POST"], endpoint="mentoring")
@permission_required("mentoring.manage")
def mentoring_page():
    """Pair an experienced manager with a new one (hr; supervisors within their team) and complete pairings."""
    form = MentoringForm()
    form.course.choices = options((c.id, f"{c.code} {localized(c, 'title')}") for c in db.session.scalars(
        catalogue.courses(active_only=True).where(Course.type == CourseType.MENTORING)))
    if form.validate_on_submit():
        mentor, mentee = form.mentor.person, form.mentee.person
        try:
            if not access.can_pair(current_user, mentor, mentee):
                raise DomainError(_("Unknown staff number, or not someone in your team."))
            mentoring.pair(mentor, mentee, db.get_or_404(Course, form.course.data), actor=current_user)
            flash(_("Pairing created."), "success")
            return redirect(url_for("training.mentoring"))
        except DomainError as error:
            flash(str(error), "error")
    return render_template("training/mentoring.html", form=form, action=ActionForm(),
                           items=mentoring.pairings(access.mentoring_scope(current_user)))


@bp.route("/mentoring/<int:mentoring_id>/complete", methods=["POST"])
@permission_required("mentoring.manage")
def complete_mentoring(mentoring_id: int):
    """Complete a pairing: both earn the course's credits."""
    item = access.mentoring_or_404(current_user, mentoring_id)
    if ActionForm().validate_on_submit():
        try:
            mentoring.complete_mentoring(item, actor=current_user)
            flash(_("Pairing completed: both earned %(n)s credits.", n=item.course.credits), "success")
        except DomainError as error:
            flash(str(error), "error")
    return redirect(url_for("training.mentoring"))
