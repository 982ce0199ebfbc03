"""Signing in (password, then the second factor for hr and admin), enrolling two-factor, changing one's password,
logging out and the language switcher. Sign-in attempts are throttled (Flask-Limiter) per client address, per account
and address (growing waits) and per account; every attempt counts when it arrives, so parallel requests cannot slip
past the limits. A browser that signed in to the account before is not held by the address and account limits: a
stranger failing on someone's staff number cannot keep its owner out."""
import math
import time
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from ..errors import DomainError, NotFound
from ..extensions import db, limiter
from ..models import User
from ..security import start_session
from ..services import access, accounts, jobs, password_reset
from ..services import auth as auth_service
from ..services import two_factor as mfa
from . import bp
from .forms import (
    ChangePasswordForm,
    CodeForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    LogoutForm,
    ResetPasswordForm,
    SetupCodeForm,
)

PENDING_SECONDS = 300  # the time to enter the second factor after the password


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login or a language change."""
    if (target and len(target) <= 512 and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not urlsplit(target).netloc):
        return target
    return url_for("main.dashboard")


def _client() -> dict:
    """What the audit keeps of the client: its address and browser."""
    return {"ip": get_remote_address(), "user_agent": (request.user_agent.string or "")[:200]}


def _account_key() -> str:
    """The account the identifier names ("acct:<id>": its staff number and its email share one count), or the
    identifier itself when it names none (looked up the same way, so unknown identifiers cost the same)."""
    if "login_key" not in g:
        identifier = (request.form.get("identifier") or "").strip()[:auth_service.MAX_IDENTIFIER]
        user = auth_service.find_user(identifier)
        g.login_key = f"acct:{user.id}" if user is not None else "id:" + identifier.lower()
    return g.login_key


def _pair() -> str:
    return f"{_account_key()}@{get_remote_address()}"


def _limit(name):
    return lambda: current_app.config[name]


DEVICE_COOKIE = "known_device"
DEVICE_DAYS = 90


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="known-device")


def _device_accounts() -> list[str]:
    """The accounts this browser has signed in to before (a signed cookie)."""
    try:
        known = _device_serializer().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        return []
    return known if isinstance(known, list) else []


def _known_device() -> bool:
    """Whether this browser signed in to the account before (then the address and account limits do not hold it;
    the per account-and-address limit still does)."""
    return _account_key() in _device_accounts()


def _remember_device(response):
    known = [_account_key()] + [i for i in _device_accounts() if i != _account_key()]
    response.set_cookie(DEVICE_COOKIE, _device_serializer().dumps(known[:5]), max_age=DEVICE_DAYS * 86400,
                        httponly=True, samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def _retry_minutes() -> int:
    """The wait in whole minutes, rounded up: who waits as long as the message says is let in (Retry-After: seconds)."""
    current = limiter.current_limit
    return max(1, math.ceil(int(current.reset_at - time.time()) / 60)) if current else 1  # the header's seconds


@bp.errorhandler(429)
def too_many(_error):
    """Throttled: the same answer for every identifier, known or not, with the wait; the attempt is audited."""
    message = ngettext("Too many sign-in attempts. Wait %(num)s minute, then try again.",
                       "Too many sign-in attempts. Wait %(num)s minutes, then try again.", _retry_minutes())
    if request.endpoint == "auth.login":
        auth_service.record_throttled((request.form.get("identifier") or "")[:64], _client())
        flash(message, "error")
        return render_template("auth/login.html", form=LoginForm()), 429
    if request.endpoint == "auth.forgot_password":
        flash(ngettext("Too many requests. Wait %(num)s minute, then try again.",
                       "Too many requests. Wait %(num)s minutes, then try again.", _retry_minutes()), "error")
        return render_template("auth/forgot_password.html", form=ForgotPasswordForm()), 429
    return render_template("errors/error.html", status=429, message=message), 429


def _fresh_session() -> None:
    """A new session on sign-in (no fixation), keeping the chosen language."""
    chosen = session.get("lang")
    session.clear()
    if chosen:
        session["lang"] = chosen


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"], exempt_when=_known_device, scope="login-address")
@limiter.limit(_limit("LOGIN_LIMIT_PER_PAIR"), methods=["POST"], key_func=_pair, scope="login-pair")
@limiter.limit(_limit("LOGIN_LIMIT_PER_IDENTIFIER"), methods=["POST"], key_func=_account_key, exempt_when=_known_device,
               scope="login-identifier")
def login():
    """The password step; then the second factor for those who need it, else straight in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth_service.authenticate(form.identifier.data, form.password.data, current_app.config, _client())
        except DomainError as error:
            flash(str(error), "error")
            return render_template("auth/login.html", form=form), 200
        _fresh_session()
        target = _safe_next(request.args.get("next"))
        if user.two_factor_enabled:
            session.update(pending_user=user.get_id(), pending_at=int(time.time()), pending_next=target)
            return _remember_device(redirect(url_for("auth.two_factor")))
        login_user(user)
        start_session(two_factor_done=not access.needs_two_factor(user, current_app.config["TWO_FACTOR_ALL"]))
        return _remember_device(redirect(target))
    return render_template("auth/login.html", form=form)


def _pending_user() -> User | None:
    """The account whose password was just accepted and that owes its second factor (for five minutes)."""
    user_id, _, version = (session.get("pending_user") or "").partition(".")
    if not user_id.isdigit() or int(time.time()) - session.get("pending_at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active and str(user.session_version) == version else None


def _pending_key() -> str:
    return "2fa:" + (session.get("pending_user") or "-")


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"], key_func=_pending_key, scope="login-code")
def two_factor():
    """The second step of signing in: the code from the authenticator app, or a recovery code."""
    user = _pending_user()
    if user is None:
        flash(_("Log in again: the sign-in took too long or was not started."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            mfa.check(user, form.code.data, _client())
        except DomainError as error:
            flash(str(error), "error")
        else:
            target = session.get("pending_next") or url_for("main.dashboard")
            _fresh_session()
            login_user(user)
            start_session(two_factor_done=True)
            return redirect(_safe_next(target))
    return render_template("auth/two_factor.html", form=form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Enrol an authenticator app: scan the QR code (drawn here), confirm with a code, keep the recovery codes."""
    if current_user.two_factor_enabled:  # replacing the authenticator takes an administrator's reset
        flash(_("Two-factor sign-in is already on for your account."), "info")
        return redirect(url_for("main.dashboard" if session.get("mfa") else "auth.login"))
    secret = mfa.pending_secret(current_user)
    form = SetupCodeForm()
    if form.validate_on_submit():
        try:
            enrolment = mfa.enable(current_user, form.code.data)
        except DomainError as error:
            flash(str(error), "error")
        else:
            login_user(current_user._get_current_object())  # this session takes the new version; others ended
            session["mfa"] = True
            return render_template("auth/recovery_codes.html", codes=enrolment.codes)
    uri = mfa.provisioning_uri(current_user, secret)
    return render_template("auth/two_factor_setup.html", form=form, secret=secret, qr=mfa.qr_data_uri(uri))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password (required after an administrator's reset)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data)
        except DomainError as error:
            flash(str(error), "error")
        else:
            login_user(current_user._get_current_object())  # this session takes the new version; others ended
            flash(_("Your password is changed. Other sessions of your account have ended."), "success")
            return redirect(url_for("main.dashboard"))
    elif current_user.must_change_password and request.method == "GET":
        flash(_("An administrator reset your password: choose your own to continue."), "info")
    return render_template("auth/change_password.html", form=form)


def _mail_on() -> None:
    """Forgot password works only when the bank has set up e-mail: otherwise the pages do not exist."""
    if not current_app.config.get("MAIL_SERVER"):
        raise NotFound()


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"], scope="reset-address")
@limiter.limit(_limit("RESET_LIMIT_PER_IDENTIFIER"), methods=["POST"], key_func=_account_key, scope="reset-identifier")
def forgot_password():
    """Ask for a reset link by staff number or e-mail: the same answer whether or not the account exists."""
    _mail_on()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if password_reset.request_link(form.identifier.data, _client()):
            jobs.send_mail_soon()
        flash(_("If an account with an e-mail address matches, a link to choose a new password is on its way. "
                "It works once, for 30 minutes."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"], scope="reset-address")
def reset_password(token: str):
    """Choose a new password through the e-mailed link; every session of the account ends."""
    _mail_on()
    if password_reset.valid_link(token) is None:
        flash(str(password_reset.LinkInvalid()), "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.use_link(token, form.password.data, _client())
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(_("Your password is changed and every session of your account has ended. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the session — and every other session of the account — (POST with CSRF), back to the login page."""
    if LogoutForm().validate_on_submit():
        auth_service.record_logout(current_user, _client())
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
