"""flask commands: seed, imports, user administration."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .errors import DomainError
from .models import Role
from .services import accounts
from .services import imports as import_service
from .services import ksa, ksa_io, ratings_import, training_io
from .services import seed as seed_service
from .services.tabular import ImportFailed

import_group = AppGroup("import", help="Import data from CSV or .xlsx files (all or nothing).")


def _report_failure(failure: ImportFailed) -> None:
    for error in failure.errors:
        click.echo(f"error: {error}", err=True)
    raise click.ClickException(f"{len(failure.errors)} error(s); nothing was written.")


def _run(importer, file: str, dry_run: bool, **kwargs) -> None:
    path = Path(file)
    try:
        result = importer(path.read_bytes(), path.name, dry_run=dry_run, **kwargs)
    except ImportFailed as failure:
        _report_failure(failure)
    prefix = "dry run: would have " if dry_run else ""
    click.echo(f"{prefix}created {result.created}, updated {result.updated}, unchanged {result.unchanged}")


@import_group.command("org-units")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report, writing nothing.")
def import_org_units(file, dry_run):
    """Import org units: code, parent_code, kind, name_zh, name_en."""
    _run(import_service.import_org_units, file, dry_run)


@import_group.command("employees")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report, writing nothing.")
def import_employees(file, dry_run):
    """Import employees (and accounts where roles are given)."""
    _run(import_service.import_employees, file, dry_run,
         probation_months=current_app.config["PROBATION_MONTHS"],
         hash_method=current_app.config.get("PASSWORD_HASH_METHOD"))


@import_group.command("courses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and report, writing nothing.")
def import_courses(file, dry_run):
    """Import the course catalogue: code, title_zh, title_en, type, delivery, hours, credits, competencies."""
    _run(training_io.import_courses, file, dry_run)


@import_group.command("training")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_training(file):
    """Import past training: staff_no, course_code, completed_on, result, score (passes earn credits)."""
    path = Path(file)
    try:
        counts = training_io.import_training(path.read_bytes(), path.name)
    except ImportFailed as failure:
        _report_failure(failure)
    click.echo(f"imported {counts['passed']} passed and {counts['failed']} failed trainings")


@import_group.command("ratings")
@click.option("--cycle", "cycle_code", required=True, help="Cycle code; created as a closed historical cycle if new.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="Period start, YYYY-MM-DD.")
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), required=True, help="Period end, YYYY-MM-DD.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_ratings(cycle_code, start, end, file):
    """Import past ratings: staff_no, competency_code, rater, level, comment."""
    path = Path(file)
    try:
        counts = ratings_import.import_ratings(path.read_bytes(), path.name, cycle_code=cycle_code,
                                               start=start.date(), end=end.date())
    except ImportFailed as failure:
        _report_failure(failure)
    click.echo(f"cycle {cycle_code}: {counts['completed']} completed, {counts['incomplete']} incomplete assessments")


@click.command("seed")
def seed():
    """Load seeds/ (positions, demo organisation and accounts); safe to run again."""
    report = seed_service.seed_all(
        current_app.config["SEEDS_DIR"],
        probation_months=current_app.config["PROBATION_MONTHS"],
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
        version = ksa.version_for_export(position_code, number)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    content = ksa_io.export_yaml(version).encode("utf-8") if fmt == "yaml" else ksa_io.export_xlsx(version)
    Path(file).write_bytes(content)
    click.echo(f"exported {position_code} version {version.number} ({version.status.value}) to {file}")


@model_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def model_import(file):
    """Import a .yaml or .xlsx model file as a new draft version of the position it names."""
    path = Path(file)
    try:
        version = ksa_io.import_file(path.read_bytes(), path.name)
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


def init_app(app) -> None:
    """Register the commands."""
    app.cli.add_command(import_group)
    app.cli.add_command(user_group)
    app.cli.add_command(model_group)
    app.cli.add_command(seed)
