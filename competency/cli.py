"""flask commands: seed, imports, users, models, standards, probation, review."""
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from .errors import DomainError
from .extensions import db
from .models import SCOPES, Decision, Job, Role
from .services import accounts, api_tokens, backup, grades, imports, jobs, safe_files, settings
from .services import seed as seed_service
from .services.imports import ImportFailed
from .services.imports import template as import_template
from .services.ksa import export as ksa_export
from .services.ksa import importer as ksa_importer
from .services.ksa import versions
from .services.org import employee_by_staff_no
from .services.review import decisions, probation, runs, standards
from .timeutil import bank_time, bank_today

import_group = AppGroup("import", help="Import data from CSV or .xlsx files (all or nothing).")


def _report_failure(failure: ImportFailed) -> None:
    for error in failure.errors:
        click.echo(f"error: {error}", err=True)
    raise click.ClickException(f"{len(failure.errors)} error(s); nothing was written.")


def _import(importer, file: str, dry_run: bool = False, **kwargs):
    """Run an importer on a file; report its errors and exit non-zero when it is refused."""
    path = Path(file)
    try:
        result = importer(path.read_bytes(), path.name, dry_run=dry_run, **kwargs)
    except ImportFailed as failure:
        _report_failure(failure)
    for notice in result.notices:
        click.echo(f"notice: {notice}")
    return result


def _run(importer, file: str, dry_run: bool, **kwargs) -> None:
    result = _import(importer, file, dry_run, **kwargs)
    prefix = "dry run: would have " if dry_run else ""
    click.echo(f"{prefix}created {result.created}, updated {result.updated}, unchanged {result.unchanged}")


@import_group.command("org-units")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report, writing nothing.")
def import_org_units(file, dry_run):
    """Import org units: code, parent_code, kind, name_zh, name_en."""
    _run(imports.import_org_units, file, dry_run)


@import_group.command("employees")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report, writing nothing.")
def import_employees(file, dry_run):
    """Import employees (and accounts where roles are given)."""
    _run(imports.import_employees, file, dry_run,
         probation_months=settings.probation_months(current_app.config["PROBATION_MONTHS"]),
         hash_method=current_app.config.get("PASSWORD_HASH_METHOD"))


@import_group.command("courses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report, writing nothing.")
def import_courses(file, dry_run):
    """Import the course catalogue: code, title_zh, title_en, type, delivery, hours, credits, competencies."""
    _run(imports.import_courses, file, dry_run)


@import_group.command("training")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_training(file):
    """Import past training: staff_no, course_code, completed_on, result, score (passes earn credits)."""
    result = _import(imports.import_training, file)
    click.echo(f"imported {result.counts['passed']} passed and {result.counts['failed']} failed trainings"
               f" ({result.unchanged} already imported)")


@import_group.command("ratings")
@click.option("--cycle", "cycle_code", required=True, help="Cycle code; created as a closed historical cycle if new.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="Period start, YYYY-MM-DD.")
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="Period end, YYYY-MM-DD.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_ratings(cycle_code, start, end, file):
    """Import past ratings: staff_no, competency_code, rater, level, comment."""
    result = _import(imports.import_ratings, file, cycle_code=cycle_code, start=start.date(), end=end.date())
    click.echo(f"cycle {cycle_code}: {result.counts['completed']} completed, {result.counts['incomplete']} incomplete assessments")


@import_group.command("sales")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report, writing nothing.")
def import_sales(file, dry_run):
    """Import annual sales: staff_no, year, amount (upsert per person and year)."""
    _run(imports.import_sales, file, dry_run)


@import_group.command("template")
@click.argument("kind", type=click.Choice(sorted(import_template.KINDS)))
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of the instructions and drop-downs (default: the app's).")
def import_template_file(kind, file, lang):
    """Write the .xlsx import template of KIND (bilingual headers, drop-downs, instructions sheet) to FILE."""
    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        content = import_template.template(kind)
    Path(file).write_bytes(content)
    click.echo(f"template for {kind} written to {file}")


standards_group = AppGroup("standards", help="Grade standards per position, as YAML.")


@standards_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def standards_import(file):
    """Set grade standards from a YAML file (one document per position, or a list of them)."""
    try:
        count = standards.import_standards(safe_files.decode_text(Path(file).read_bytes()))
    except ImportFailed as failure:
        _report_failure(failure)
    click.echo(f"standards set for {count} position(s)")


@standards_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def standards_export(file):
    """Write every position's grade standards to a YAML file."""
    Path(file).write_text(standards.export_standards(), encoding="utf-8")
    click.echo(f"standards written to {file}")


probation_group = AppGroup("probation", help="Probation confirmations.")


@probation_group.command("confirm")
@click.option("--staff-no", required=True)
@click.option("--qualified/--not-qualified", required=True, help="合格 or not.")
@click.option("--comment", default="")
def probation_confirm(staff_no, qualified, comment):
    """Record a supervisor's probation confirmation for a trainee."""
    person = employee_by_staff_no(staff_no)
    if person is None:
        raise click.ClickException(f"unknown staff number {staff_no}")
    try:
        probation.confirm_probation(person, qualified, comment)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{staff_no}: {'qualified' if qualified else 'not qualified'}")


review_group = AppGroup("review", help="The annual grade review.")


def _run_for(year):
    run = runs.get_run(year)
    if run is None:
        raise click.ClickException(f"no review for {year}: run `flask review run --year {year}` first")
    return run


@review_group.command("run")
@click.option("--year", type=int, required=True, help="The performance year.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per person.")
def review_run(year, as_json):
    """Run (or re-run) the review of a performance year; readiness problems are printed as warnings."""
    for warning in runs.readiness(year).warnings():
        click.echo(f"warning: {warning}", err=True)
    try:
        run = runs.run_review(year)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    items = db.session.scalars(runs.recommendations_query(run)).all()
    if as_json:
        for item in items:
            click.echo(json.dumps({"staff_no": item.employee.staff_no, "current_grade": item.current_grade.value,
                                   "recommended_grade": item.recommended_grade.value, "action": item.action.value,
                                   "below_junior": item.below_junior, "data_missing": item.data_missing,
                                   "explanation": item.explanation}, ensure_ascii=False))
    else:
        counts = runs.action_counts(run)
        click.echo(f"review {year}: {len(items)} people; " + ", ".join(f"{a.value} {n}" for a, n in sorted(counts.items())))


@review_group.command("approve")
@click.option("--year", type=int, required=True)
@click.option("--all", "approve_all", is_flag=True, required=True, help="Approve every undecided recommendation.")
def review_approve(year, approve_all):
    """Approve the undecided recommendations of a draft review (decisions already made are kept)."""
    try:
        count = decisions.decide(_run_for(year), None, Decision.APPROVED, pending_only=True)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"approved {count} recommendation(s)")


@review_group.command("finalise")
@click.option("--year", type=int, required=True)
@click.option("--effective", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="YYYY-MM-DD")
def review_finalise(year, effective):
    """Finalise a review (every recommendation decided): changes take effect on the effective date. Acts as the
    system operator (no four-eyes check) and is audited as such."""
    try:
        changed = decisions.finalise(_run_for(year), effective.date(), actor=None, via="cli")
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"review {year} finalised: {changed} change(s) effective {effective.date().isoformat()}")


grade_group = AppGroup("grade", help="Grades on a date, and applying scheduled grade changes.")


@grade_group.command("show")
@click.option("--staff-no", required=True)
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print {staff_no, grade, status, since} as JSON.")
def grade_show(staff_no, as_of, as_json):
    """A person's grade and status on a date, counting changes scheduled for the future."""
    person = employee_by_staff_no(staff_no)
    if person is None:
        raise click.ClickException(f"unknown staff number {staff_no}")
    found = grades.grade_on(person, as_of.date() if as_of else bank_today())
    if as_json:
        click.echo(json.dumps({"staff_no": found.staff_no, "grade": found.grade.value, "status": found.status.value,
                               "since": found.since.isoformat()}))
    else:
        click.echo(f"{found.staff_no}: {found.grade.value} ({found.status.value}) since {found.since.isoformat()}")


@grade_group.command("apply")
def grade_apply():
    """Apply the grade changes whose effective date has come (run daily, e.g. from cron)."""
    click.echo(f"applied {grades.apply_due_changes()} scheduled grade change(s)")


@click.command("seed")
def seed():
    """Load seeds/ (positions, demo organisation and accounts); safe to run again."""
    report = seed_service.seed_all(
        current_app.config["SEEDS_DIR"],
        probation_months=settings.probation_months(current_app.config["PROBATION_MONTHS"]),
        hash_method=current_app.config.get("PASSWORD_HASH_METHOD"),
    )
    click.echo("seeded: " + ", ".join(f"{k} {v} changed" for k, v in report.items()))


model_group = AppGroup("model", help="Export and import competency models.")


@model_group.command("export")
@click.option("--position", "position_code", required=True, help="Position code, e.g. CM_CORP.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "xlsx"]), default="yaml", show_default=True)
@click.option("--version", "number", type=int, help="Version number (default: the published one, else the latest).")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def model_export(position_code, fmt, number, file):
    """Write a position's competency model to FILE as YAML or .xlsx."""
    try:
        version = versions.version_for_export(position_code, number)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    content = ksa_export.export_yaml(version).encode("utf-8") if fmt == "yaml" else ksa_export.export_xlsx(version)
    Path(file).write_bytes(content)
    click.echo(f"exported {position_code} version {version.number} ({version.status.value}) to {file}")


@model_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def model_import(file):
    """Import a .yaml or .xlsx model file as a new draft version of the position it names."""
    path = Path(file)
    try:
        version = ksa_importer.import_file(path.read_bytes(), path.name)
    except ImportFailed as failure:
        _report_failure(failure)
    click.echo(f"imported {version.position.code} as draft version {version.number}")


user_group = AppGroup("user", help="Manage login accounts.")


@user_group.command("create")
@click.option("--email", help="Email to log in with (needed without --staff-no).")
@click.option("--staff-no", help="Link the account to this employee.")
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]), help="Repeat for several roles.")
@click.password_option()
def create_user(email, staff_no, roles, password):
    """Create a login account, e.g. the first admin of a production install."""
    try:
        user = accounts.create_account(staff_no=staff_no, email=email, password=password, roles=roles, actor=None)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created account {user.login_name} with roles {', '.join(sorted(roles)) or '-'}")


api_token_group = AppGroup("api-token", help="API tokens: create (the token is printed once), list, revoke.")


@api_token_group.command("create")
@click.option("--staff-no", help="The account's staff number.")
@click.option("--email", help="Or the account's email (a service account without a person).")
@click.option("--name", required=True, help="Who uses the token, e.g. 'HR nightly sync'.")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES), help="Repeat for several scopes.")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day the token works (YYYY-MM-DD).")
def api_token_create(staff_no, email, name, scopes, expires):
    """Create an API token acting as the account (its roles and relationships), within the scopes; prints it once."""
    account = api_tokens.account_by_login(staff_no or email or "")
    if account is None:
        raise click.ClickException(f"no account with staff number or email {staff_no or email or '(none given)'}")
    try:
        token, secret = api_tokens.create_token(account, name, scopes, expires.date() if expires else None)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created token {token.prefix}… '{token.name}' for {account.login_name} with scopes {' '.join(token.scope_list)}"
               f"{f', expires {token.expires_on}' if token.expires_on else ''}")
    click.echo("Copy it now: it is not shown again.", err=True)
    click.echo(secret)


@api_token_group.command("list")
def api_token_list():
    """Every token: id, prefix, name, account, scopes, expiry, last use, revoked."""
    for token in db.session.scalars(api_tokens.tokens_query()):
        click.echo(f"{token.id}\t{token.prefix}…\t{token.name}\t{token.user.login_name}\t{token.scopes}\t"
                   f"expires {token.expires_on or '-'}\tlast used {_bank_minute(token.last_used_at)}"
                   f"{chr(9) + 'revoked' if token.revoked_at else ''}")


def _bank_minute(at) -> str:
    """A stored time as the pages show it: the bank's time zone, to the minute, the zone named; '-' for none."""
    return f"{bank_time(at):%Y-%m-%d %H:%M} {current_app.config['TIMEZONE']}" if at else "-"


@api_token_group.command("revoke")
@click.argument("token_id", type=int)
def api_token_revoke(token_id):
    """Revoke a token by its id (see `flask api-token list`): its next request is refused."""
    try:
        token = api_tokens.token_or_404(token_id)
    except DomainError:
        raise click.ClickException(f"no token {token_id}") from None
    click.echo(f"revoked {token.prefix}… '{token.name}'" if api_tokens.revoke(token) else "already revoked")


backup_group = AppGroup("backup", help="Back up the whole database to a file, and restore it (SQLite or PostgreSQL).")


def _describe(info: backup.BackupInfo) -> str:
    """A backup in one line: size, when it was made, schema revision, how many employees and accounts it holds."""
    amount = f"{info.size} bytes"
    for power, unit in ((3, "GB"), (2, "MB"), (1, "KB")):
        if info.size >= 1024 ** power:
            amount = f"{info.size / 1024 ** power:.1f} {unit}"
            break
    return (f"{amount}, made {info.created}, schema revision {info.revision}, {info.employees} "
            f"employee{'s' * (info.employees != 1)}, {info.accounts} account{'s' * (info.accounts != 1)}")


@backup_group.command("create")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def backup_create(file, force):
    """Back up the database to FILE. A consistent snapshot taken while the app keeps serving (SQLite: the online
    backup API; PostgreSQL: pg_dump --format=custom); FILE is readable by its owner only."""
    try:
        info = backup.create_backup(Path(file), force=force)
    except backup.BackupFailed as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup written to {info.path}: {_describe(info)}")


def _confirm_restore(info: backup.BackupInfo) -> None:
    """Say what the restore replaces and ask for the database name; anything else cancels."""
    name = backup.database_name()
    click.echo(f"This replaces ALL data in {backup.database_label()} with the backup {info.path} ({_describe(info)}). "
               "Changes made since the backup are lost; stop the app first.")
    if info.needs_upgrade:
        click.echo("The backup's schema is older than this version of the app: run `flask db upgrade` after the restore.")
    if click.prompt(f"Type the database name ({name}) to restore", default="", show_default=False).strip() != name:
        raise click.ClickException("restore cancelled; nothing was changed")


@backup_group.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
def backup_restore(file, yes):
    """Replace ALL data with the backup in FILE. FILE must be a backup of this app at a schema revision this
    version knows; asks for the database name unless --yes (SQLite: the backup API; PostgreSQL: pg_restore
    --single-transaction)."""
    try:
        info = backup.inspect_backup(Path(file))
        if not yes:
            _confirm_restore(info)
        info = backup.restore_backup(Path(file))
    except backup.BackupFailed as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored {backup.database_label()} from {info.path}: {_describe(info)}")
    if info.needs_upgrade:
        click.echo(f"The backup's schema (revision {info.revision}) is older than this version of the app: "
                   "run `flask db upgrade` now, before starting the app.")


jobs_group = AppGroup("jobs", help="Background jobs: run a worker, list recent jobs.")


@jobs_group.command("worker")
@click.option("--threads", default=2, show_default=True, help="Jobs run at the same time in this worker.")
def jobs_worker(threads):
    """Run background jobs until stopped (SIGTERM or Ctrl-C finish the running jobs first). Needed when the web
    servers run with COMPETENCY_JOBS_WORKER=external; several workers (on several machines with REDIS_URL) share the
    queue."""
    if current_app.config.get("JOBS_WORKER") == "immediate":
        raise click.ClickException("jobs run inside requests in this configuration: there is nothing to work on")
    click.echo(f"worker: {threads} thread(s) on the {'Redis' if current_app.config.get('JOBS_REDIS_URL') else 'SQLite'} queue")
    jobs.run_worker(current_app._get_current_object(), threads)


@jobs_group.command("list")
@click.option("--limit", default=20, show_default=True)
def jobs_list(limit):
    """The latest jobs: id, kind, status, who started it, when, and the error of a failed one."""
    for job in db.session.scalars(select(Job).order_by(Job.created_at.desc()).limit(limit)):
        click.echo(f"{job.id}  {job.kind:15} {job.status:8} user={job.user_id} {job.created_at:%Y-%m-%d %H:%M:%S}"
                   + (f"  {job.error}" if job.error else ""))


notify_group = AppGroup("notify", help="Notifications: reminders, the e-mail outbox, pruning.")


@notify_group.command("run")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="The day the reminders are for (default today).")
def notify_run(today):
    """Send the reminders that are due, send the queued e-mails, delete old notifications (run every 10 minutes)."""
    from .services.notifications import runner

    report = runner.run(today.date() if today else None)
    for rule, created in report.reminders.items():
        click.echo(f"reminders {rule}: {created}")
    if report.mail_on:
        sent = report.sent
        click.echo(f"e-mail: sent {sent.sent}, to retry {sent.retrying}, failed {sent.failed}, waiting {sent.waiting}")
    else:
        click.echo("e-mail: off (MAIL_SERVER is not set); nothing to send")
    click.echo(f"pruned: {report.pruned_notifications} notification(s), {report.pruned_messages} sent e-mail(s)")


def init_app(app) -> None:
    """Register the commands."""
    app.cli.add_command(notify_group)
    app.cli.add_command(jobs_group)
    app.cli.add_command(import_group)
    app.cli.add_command(user_group)
    app.cli.add_command(model_group)
    app.cli.add_command(standards_group)
    app.cli.add_command(probation_group)
    app.cli.add_command(review_group)
    app.cli.add_command(grade_group)
    app.cli.add_command(seed)
    app.cli.add_command(backup_group)
    app.cli.add_command(api_token_group)
