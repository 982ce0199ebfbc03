"""What the audit log shows for the codes it stores: an action's label ("auth.login" → "Signed in"), the groups of
actions its filter offers, and an object type's label. The trail keeps the codes; only the reading is translated."""
from flask_babel import lazy_gettext as _l

from .i18n import in_language

ACTIONS = {
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Sign-in failed"),
    "auth.login_throttled": _l("Sign-in refused: too many attempts"),
    "auth.logout": _l("Signed out"),
    "auth.2fa": _l("Two-factor code accepted"),
    "auth.2fa_failed": _l("Two-factor code refused"),
    "auth.2fa_recovery_code": _l("Signed in with a recovery code"),
    "auth.2fa_enabled": _l("Two-factor sign-in set up"),
    "auth.2fa_reset": _l("Two-factor sign-in reset"),
    "user.create": _l("Account created"),
    "user.activate": _l("Account activated"),
    "user.deactivate": _l("Account deactivated"),
    "user.roles": _l("Roles changed"),
    "user.password_change": _l("Password changed"),
    "user.password_reset": _l("Password reset"),
    "api_token.create": _l("API token created"),
    "api_token.revoke": _l("API token revoked"),
    "auth.password_reset_requested": _l("Password reset link asked for"),
    "user.password_reset_by_link": _l("Password reset with an e-mailed link"),
    "mail.retry": _l("Failed e-mails queued again"),
    "employee.update": _l("Employee record changed"),
    "setting.update": _l("Setting changed"),
    "cycle.create": _l("Cycle created"),
    "cycle.update": _l("Cycle changed"),
    "cycle.open": _l("Cycle opened"),
    "cycle.close": _l("Cycle closed"),
    "assessment.self_save": _l("Self-assessment saved"),
    "assessment.self_submit": _l("Self-assessment submitted"),
    "assessment.supervisor_save": _l("Supervisor assessment saved"),
    "assessment.supervisor_submit": _l("Supervisor assessment submitted"),
    "assessment.reopen": _l("Assessment reopened"),
    "assessment.change_supervisor": _l("Assessing supervisor changed"),
    "appeal.file": _l("Appeal filed"),
    "appeal.acknowledge": _l("Result acknowledged"),
    "appeal.uphold": _l("Appeal answered: result upheld"),
    "appeal.reopen": _l("Appeal answered: reopened for the supervisor"),
    "appeal.change_grade": _l("Appeal answered: grade changed"),
    "course.create": _l("Course created"),
    "session.create": _l("Course session created"),
    "training.assign": _l("Training assigned"),
    "training.enrol": _l("Enrolled in training"),
    "training.cancel": _l("Training cancelled"),
    "training.result": _l("Training result recorded"),
    "training.undo_completion": _l("Training completion undone"),
    "credit.adjust": _l("Credits adjusted"),
    "credit.reverse": _l("Credits reversed"),
    "credit.requirements": _l("Credit requirements changed"),
    "mentoring.pair": _l("Mentoring pair created"),
    "mentoring.complete": _l("Mentoring completed"),
    "certification.create": _l("Certification recorded"),
    "model.new_version": _l("Model version created"),
    "model.import": _l("Model imported"),
    "model.rename": _l("Model renamed"),
    "model.publish": _l("Model published"),
    "model.retire": _l("Model retired"),
    "model.delete_draft": _l("Draft model deleted"),
    "model.competency_create": _l("Competency added"),
    "model.competency_move": _l("Competency moved"),
    "model.competency_remove": _l("Competency removed"),
    "model.duty_area_create": _l("Duty area added"),
    "model.duty_area_remove": _l("Duty area removed"),
    "model.targets_update": _l("Target levels changed"),
    "standards.update": _l("Grade standards changed"),
    "probation.confirm": _l("Probation decided"),
    "review.run": _l("Annual review run"),
    "review.approved": _l("Recommendation approved"),
    "review.overridden": _l("Recommendation overridden"),
    "review.rejected": _l("Recommendation rejected"),
    "review.finalise": _l("Annual review finalised"),
    "grade.apply_due": _l("Grade changes took effect"),
    "grade.supersede": _l("Grade change superseded"),
    "backup.create": _l("Backup made"),
    "backup.restore": _l("Database restored"),
    "import.ratings.assessment": _l("Assessment imported"),
}
# Actions with a variable last part: "<prefix><what>" is shown as the prefix's label of what's label (or code).
FAMILIES = {
    "export.": _l("Downloaded: %(what)s"),
    "view.": _l("Opened: %(what)s"),
    "import.": _l("Imported: %(what)s"),
}
ROW = _l("Imported row: %(what)s")  # import.<kind>.row
WHAT = {
    "results": _l("results"), "results_wide": _l("results, one row per person"), "gaps": _l("gaps"),
    "credits": _l("credits"), "recommendations": _l("review recommendations"), "audit": _l("audit log"),
    "model": _l("competency model"), "standards": _l("grade standards"), "result": _l("assessment result"),
    "certifications": _l("certifications"), "development": _l("development report"), "grade": _l("grade history"),
    "profile": _l("profile"), "appeal": _l("appeal"), "recommendation": _l("grade recommendation"),
    "org_units": _l("org units"), "employees": _l("employees"), "courses": _l("courses"), "training": _l("training records"),
    "ratings": _l("ratings"), "sales": _l("annual sales"),
}
# The variable parts the filter offers for each family of actions.
KINDS = {
    "export.": ("results", "results_wide", "gaps", "credits", "recommendations", "audit", "model", "standards"),
    "view.": ("result", "credits", "certifications", "development", "grade", "profile", "appeal", "recommendation"),
    "import.": ("org_units", "employees", "courses", "training", "ratings", "sales"),
}
# The groups of actions the log's filter offers, each the prefix its actions share.
GROUPS = (
    ("auth.", _l("Sign-in")), ("user.", _l("Accounts")), ("employee.", _l("Employees")), ("setting.", _l("Settings")),
    ("cycle.", _l("Assessment cycles")), ("assessment.", _l("Assessments")), ("appeal.", _l("Acknowledgements and appeals")),
    ("course.", _l("Courses")), ("session.", _l("Course sessions")), ("training.", _l("Training")), ("credit.", _l("Credits")),
    ("mentoring.", _l("Mentoring")), ("certification.", _l("Certifications")), ("model.", _l("Competency models")),
    ("standards.", _l("Grade standards")), ("probation.", _l("Probation")), ("review.", _l("Annual review")),
    ("grade.", _l("Grades")), ("import.", _l("Imports")), ("export.", _l("Downloads")),
    ("view.", _l("Views of personal records")), ("backup.", _l("Backups")), ("mail.", _l("E-mail")),
)
OBJECTS = {
    "user": _l("Account"), "employee": _l("Employee"), "assessment": _l("Assessment"), "cycle": _l("Cycle"),
    "appeal": _l("Appeal"), "acknowledgement": _l("Acknowledgement"), "course": _l("Course"), "enrolment": _l("Enrolment"),
    "credit_entry": _l("Credit entry"), "credit_requirement": _l("Credit requirement"), "mentoring": _l("Mentoring pair"),
    "model_version": _l("Model version"), "competency": _l("Competency"), "duty_area": _l("Duty area"),
    "position": _l("Position"), "review_run": _l("Annual review"), "grade_history": _l("Grade change"),
    "setting": _l("Setting"), "import": _l("Import"), "export": _l("Download"), "database": _l("Database"),
    "org_unit": _l("Org unit"), "outbox": _l("E-mail"),
}


def person_label(name_zh: str | None, name_en: str | None, staff_no: str | None, email: str | None) -> str:
    """A person as the log names them: "name (staff number)" in the current language, or the account's email."""
    name = in_language(name_zh, name_en)
    if staff_no:
        return f"{name} ({staff_no})" if name else staff_no
    return email or ""


def actor_label(user) -> str:
    """Who did it: the account's person, or its email; "—" for the system or an unknown actor."""
    if user is None:
        return "—"
    person = user.employee
    return person_label(person and person.name_zh, person and person.name_en, person and person.staff_no, user.email) or "—"


def action_label(code: str) -> str:
    """The label of an action code in the current language; the code itself when it has none."""
    if code in ACTIONS:
        return str(ACTIONS[code])
    if code.startswith("import.") and code.endswith(".row"):
        what = code[len("import."):-len(".row")]
        return str(ROW % {"what": WHAT.get(what, what)})
    for prefix, text in FAMILIES.items():
        if code.startswith(prefix):
            what = code[len(prefix):]
            return str(text % {"what": WHAT.get(what, what)})
    return code


def object_label(object_type: str, object_id: str | None) -> str:
    """An object as "<type label> #<id>" (the type's code when it has no label)."""
    text = str(OBJECTS.get(object_type, object_type))
    return f"{text} #{object_id}" if object_id else text


def action_choices() -> dict:
    """The choices of the log's action filter: "all", then per group the whole group (its prefix) and each action."""
    choices: dict = {"": [("", str(_l("All actions")))]}
    for prefix, name in GROUPS:
        codes = [code for code in ACTIONS if code.startswith(prefix)] + [prefix + kind for kind in KINDS.get(prefix, ())]
        codes += [f"import.{kind}.row" for kind in KINDS["import."]] if prefix == "import." else []
        actions = sorted(((code, action_label(code)) for code in codes), key=lambda c: c[1])
        choices[str(name)] = [(prefix, str(_l("All: %(group)s", group=name))), *actions]
    return choices
