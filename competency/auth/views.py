"""Login, logout and the language switcher."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import DomainError
from ..services import accounts
from ..services import auth as auth_service
from . import bp
from .forms import LanguageForm, LoginForm, LogoutForm


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login or a language change."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on success start a session and go to the dashboard."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth_service.authenticate(form.identifier.data, form.password.data, current_app.config)
        except DomainError as error:
            flash(str(error), "error")
            return render_template("auth/login.html", form=form), 200
        chosen = session.get("lang")
        session.clear()
        if chosen:
            session["lang"] = chosen
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session (POST with CSRF) and return to the login page."""
    if LogoutForm().validate_on_submit():
        auth_service.record_logout(current_user)
        logout_user()
        session.clear()
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    """Switch the interface language; logged-in users keep the choice on their account."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            accounts.set_locale(current_user, form.lang.data)
    return redirect(_safe_next(form.next.data))
