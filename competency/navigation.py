"""The main navigation: the dashboard, then one menu per area, each link shown to those whose roles allow it.

What a menu holds depends only on the account's roles, whether it belongs to a person, the language and where the
app is mounted, so each such menu is built once per process (a few dozen `url_for` and translations, on every page
before) and the page only marks where the user is."""
from functools import lru_cache

from flask import request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from .i18n import lang
from .services import access

PERSON = "person"  # links for an account that belongs to a person, whatever its roles
PROFILE = "org.employee"  # the person's own profile: the one link that names the person (added per request)

AREAS = [
    (_l("Me"), [
        (PERSON, PROFILE, _l("My profile")),
        (PERSON, "assessments.mine", _l("My assessments")),
        (PERSON, "training.mine", _l("My training")),
        (PERSON, "analytics.development", _l("My development")),
        (PERSON, "review.my_grade", _l("My grade")),
        (PERSON, "ksa.my_model", _l("My competency model")),
    ]),
    (_l("Team"), [
        ("team.lead", "assessments.team", _l("My team")),
        ("team.lead", "analytics.team", _l("Team analytics")),
        ("team.lead", "training.team_credits", _l("Team credits")),
        ("team.lead", "review.probation", _l("Probation")),
    ]),
    (_l("Assessment"), [
        ("cycles.manage", "cycles.index", _l("Assessment cycles")),
        ("models.edit", "ksa.index", _l("Competency models")),
        ("analytics.organisation", "analytics.organisation", _l("Analytics")),
    ]),
    (_l("Training"), [
        ("training.manage", "training.catalogue", _l("Course catalogue")),
        ("credits.compliance", "training.compliance", _l("Credit compliance")),
    ]),
    (_l("Grade review"), [
        ("review.read", "review.index", _l("Grade review")),
        ("appeals.resolve", "appeals.queue", _l("Appeals")),
    ]),
    (_l("Administration"), [
        ("org.browse", "org.employees", _l("Employees")),
        ("org.browse", "org.tree", _l("Organisation")),
        ("imports.run", "imports.upload", _l("Imports")),
        ("accounts.manage", "admin.users", _l("Accounts")),
        ("audit.read", "admin.audit_log", _l("Audit log")),
        ("accounts.manage", "admin.api_tokens_page", _l("API tokens")),
        ("accounts.manage", "notifications.failed_mail", _l("Failed e-mails")),
    ]),
]


class _Roles:
    """Just enough of a signed-in account for `access.can`: its roles."""

    is_authenticated = True

    def __init__(self, roles: frozenset):
        self.roles = roles


def menus(user) -> list[tuple[str, list[tuple[str, str]]]]:
    """The areas the user sees, each [(url, label)] of the links shown to them; the person's own profile link is
    filled in here, the rest comes from the process's cache."""
    cached = _menus(frozenset(user.roles), user.employee_id is not None, lang(), request.script_root)
    if user.employee_id is None:
        return cached
    profile = url_for(PROFILE, employee_id=user.employee_id)
    return [(name, [(profile if url is None else url, label) for url, label in links]) for name, links in cached]


@lru_cache(maxsize=256)
def _menus(roles: frozenset, person: bool, language: str, _mounted_at: str) -> list[tuple[str, list]]:
    account = _Roles(roles)
    built = []
    with force_locale(language):
        for name, links in AREAS:
            shown = [(None if endpoint == PROFILE else url_for(endpoint), str(label))
                     for needs, endpoint, label in links
                     if (person if needs == PERSON else access.can(account, needs))]
            if shown:
                built.append((str(name), shown))
    return built


def init_app(app) -> None:
    """Templates call `menus(current_user)`."""
    app.jinja_env.globals["menus"] = menus
