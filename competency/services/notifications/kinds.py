"""Every kind of notification, registered in one place: its label (the settings page), its text (written at display
time from the notification's params, in the reader's language — and when an e-mail is queued, in the recipient's),
whether it is mandatory (deadlines and decisions about them: e-mail cannot be turned off), what it is about and the
link that acts on it.

Params hold values, not sentences: a name in both languages as {"zh": …, "en": …}, a date as YYYY-MM-DD, a grade as
its code (keys ending in "grade"). A text names them as %(key)s."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


@dataclass(frozen=True)
class Kind:
    name: str
    label: LazyString
    text: LazyString
    mandatory: bool
    object_type: str  # the table of the object it is about ("" when about nothing in particular)
    link: str  # the app path that acts on it: a format string of the object's id and the params, e.g. /assessments/{object_id}


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind to the registry (its name must be new)."""
    if kind.name in KINDS:
        raise ValueError(f"notification kind {kind.name!r} registered twice")
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> Kind:
    return KINDS[name]


def optional_kinds() -> list[Kind]:
    """The kinds whose e-mail a person may turn off, in the order registered."""
    return [k for k in KINDS.values() if not k.mandatory]


# --- the events (services call notify() where the action happens) -----------------------------------------------
register(Kind("cycle_opened", _l("An assessment cycle opened"),
              _l("The assessment cycle %(cycle)s is open. Submit your self-assessment by %(self_deadline)s; your "
                 "supervisor rates you by %(supervisor_deadline)s."),
              mandatory=True, object_type="assessment", link="/assessments/{object_id}/self"))
register(Kind("cycle_opened_team", _l("An assessment cycle opened for my team"),
              _l("The assessment cycle %(cycle)s is open: rate the people you assess by %(supervisor_deadline)s."),
              mandatory=True, object_type="cycle", link="/team"))
register(Kind("self_submitted", _l("A team member submitted a self-assessment"),
              _l("%(person)s submitted their self-assessment in %(cycle)s: it is your turn to rate them (by %(deadline)s)."),
              mandatory=False, object_type="assessment", link="/assessments/{object_id}/review"))
register(Kind("assessment_completed", _l("My assessment is completed"),
              _l("Your assessment in %(cycle)s is completed: read your result, then acknowledge or appeal it by "
                 "%(respond_by)s."),
              mandatory=True, object_type="assessment", link="/assessments/{object_id}"))
register(Kind("assessment_reopened_self", _l("My self-assessment was reopened"),
              _l("HR reopened your self-assessment in %(cycle)s: %(reason)s"),
              mandatory=True, object_type="assessment", link="/assessments/{object_id}/self"))
register(Kind("assessment_reopened_supervisor", _l("An assessment I rate was reopened"),
              _l("HR reopened your assessment of %(person)s in %(cycle)s: %(reason)s"),
              mandatory=True, object_type="assessment", link="/assessments/{object_id}/review"))
register(Kind("appeal_filed", _l("A result was appealed"),
              _l("%(person)s appealed %(subject)s: %(reason)s"),
              mandatory=False, object_type="appeal", link="/appeals/{object_id}"))
register(Kind("appeal_resolved", _l("My appeal was resolved"),
              _l("HR resolved your appeal (%(outcome)s): %(response)s"),
              mandatory=True, object_type="appeal", link="{target}"))
register(Kind("course_assigned", _l("A course was assigned to me"),
              _l("You are assigned the course %(course)s, due %(due)s. Enrol in an open session of it on My training."),
              mandatory=True, object_type="course", link="{target}"))
register(Kind("enrolment_result", _l("A training result was recorded"),
              _l("Your result in %(course)s is recorded: %(outcome)s."),
              mandatory=False, object_type="enrolment", link="/training/credits"))
register(Kind("grade_changed", _l("My grade changes"),
              _l("The %(year)s grade review is final: your grade becomes %(to_grade)s (now %(from_grade)s) on "
                 "%(effective)s. You may acknowledge or appeal it by %(respond_by)s."),
              mandatory=True, object_type="recommendation", link="/my-grade"))

# --- reminders and escalation (reminders.py: told from the deadline rules of services/due.py) ---------------------
# Their params: "title" (what it is about, in both languages), "deadline" (YYYY-MM-DD), and for an escalation "actor"
# (who has not acted yet).
register(Kind("reminder_self_assessment", _l("Reminder: my self-assessment is due"),
              _l("Your self-assessment in %(title)s is due on %(deadline)s."),
              mandatory=True, object_type="assessment", link="/assessments/{object_id}/self"))
register(Kind("reminder_team_rating", _l("Reminder: team members' assessments are due"),
              _l("%(count)s assessments of your team members are due on %(deadline)s."),
              mandatory=True, object_type="user", link="/team"))
register(Kind("reminder_course", _l("Reminder: a course is due"),
              _l("The course %(title)s is due on %(deadline)s: complete it in time."),
              mandatory=True, object_type="enrolment", link="/training#enrolment-{object_id}"))
register(Kind("reminder_session", _l("Reminder: a training session tomorrow"),
              _l("Your training session of %(title)s is tomorrow, %(deadline)s."),
              mandatory=False, object_type="enrolment", link="/training#enrolment-{object_id}"))
register(Kind("reminder_certification", _l("Reminder: a certification expires"),
              _l("Your certification %(title)s expires on %(deadline)s: renew it in time."),
              mandatory=False, object_type="certification", link="/training/certifications"))
register(Kind("reminder_probation", _l("Reminder: a probation ends"),
              _l("The probation of %(title)s ends on %(deadline)s: confirm whether they are qualified."),
              mandatory=True, object_type="employee", link="/team/probation/{object_id}"))
register(Kind("probation_overdue", _l("A probation is overdue"),
              _l("The probation of %(title)s ended on %(deadline)s and is not confirmed yet: confirm it now."),
              mandatory=True, object_type="employee", link="/team/probation/{object_id}"))
register(Kind("reminder_credits", _l("Reminder: my credits are behind"),
              _l("You have earned fewer credits this year than your grade requires: earn the rest by %(deadline)s."),
              mandatory=True, object_type="employee", link="/training/credits"))
register(Kind("reminder_team_credits", _l("Reminder: a team member's credits are behind"),
              _l("%(title)s has earned fewer credits this year than their grade requires (by %(deadline)s)."),
              mandatory=True, object_type="employee", link="/employees/{object_id}/credits"))
register(Kind("escalation_self_assessment", _l("Escalation: a self-assessment is overdue"),
              _l("%(actor)s has not submitted the self-assessment in %(title)s, due %(deadline)s."),
              mandatory=True, object_type="assessment", link="/employees/{employee_id}"))
register(Kind("escalation_team_rating", _l("Escalation: an assessment is overdue"),
              _l("%(actor)s has not rated %(title)s, due %(deadline)s."),
              mandatory=True, object_type="assessment", link="/employees/{employee_id}"))
register(Kind("escalation_probation", _l("Escalation: a probation confirmation is overdue"),
              _l("%(actor)s has not confirmed the probation of %(title)s, which ended on %(deadline)s."),
              mandatory=True, object_type="employee", link="/team/probation/{object_id}"))
register(Kind("escalation_course", _l("Escalation: a course is overdue"),
              _l("%(actor)s has not completed the course %(title)s, due %(deadline)s."),
              mandatory=True, object_type="enrolment", link="/employees/{employee_id}"))
