"""What the data warehouse and the e-learning platform read: the course catalogue, published competency models,
assessment results, review recommendations and the credit ledger — each within the account's scope (access.py)."""
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ..errors import NotFound
from ..extensions import db
from ..models import (
    Assessment,
    Course,
    CreditEntry,
    Cycle,
    Employee,
    Enrolment,
    ModelVersion,
    Recommendation,
    ResultRow,
    VersionStatus,
)
from ..services import access
from ..services.ksa.published import parts_of
from ..services.review.runs import get_run, recommendations_query
from ..services.training.ledger import year_range
from . import blueprint, paging, schemas
from .auth import current_token, current_user, requires
from .common import responds

bp = blueprint("reads", "Catalogue, models, results, recommendations, credits.")


@bp.route("/token")
@bp.response(200, schemas.TokenOut)
@responds(bp)
def whoami():
    """The token itself: its name, scopes, and the account and roles it acts as (no scope needed)."""
    token, user = current_token(), current_user()
    return {"name": token.name, "prefix": token.prefix, "scopes": token.scope_list, "account": user.login_name,
            "roles": sorted(r.value for r in user.roles), "expires_on": token.expires_on}


@bp.route("/courses")
@requires("models:read", "training:write")
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.CoursePage)
@responds(bp)
def list_courses(args):
    """The course catalogue, by code (an e-learning platform maps its courses to these codes)."""
    query = select(Course).options(selectinload(Course.competencies)).order_by(Course.code)
    courses, cursor = paging.page(query, Course.code, args)
    return {"items": [{"code": c.code, "title_zh": c.title_zh, "title_en": c.title_en, "type": c.type.value,
                       "delivery": c.delivery.value, "hours": c.hours, "credits": c.credits, "active": c.active,
                       "competencies": [{"competency_code": k.competency_code, "up_to_level": k.up_to_level} for k in c.competencies]}
                      for c in courses], "next": cursor}


@bp.route("/models")
@requires("models:read")
@bp.response(200, schemas.ModelList)
@responds(bp)
def list_models():
    """The published competency model of each position: competencies with weights, descriptors per level, and the
    level each grade requires."""
    versions = db.session.scalars(select(ModelVersion).where(ModelVersion.status == VersionStatus.PUBLISHED)
                                  .options(joinedload(ModelVersion.position)).order_by(ModelVersion.id)).all()
    return {"items": [_model(v) for v in versions]}


def _model(version: ModelVersion) -> dict:
    parts = parts_of(version)
    return {"position_code": version.position.code, "version": version.number, "name_zh": version.name_zh,
            "name_en": version.name_en, "published_at": version.published_at.replace(tzinfo=UTC),
            "competencies": [{"code": c.code, "category": c.category.value, "name_zh": c.name_zh, "name_en": c.name_en,
                              "description_zh": c.description_zh, "description_en": c.description_en, "weight": c.weight,
                              "descriptors": [{"level": d.level, "text_zh": d.text_zh, "text_en": d.text_en}
                                              for _level, d in sorted(c.descriptors.items())],
                              "targets": {g.value: level for g, level in c.targets.items()}} for c in parts.competencies]}


@bp.route("/results")
@requires("results:read")
@bp.arguments(schemas.ResultArgs, location="query")
@bp.response(200, schemas.ResultPage)
@responds(bp)
def list_results(args):
    """Assessment results per person and competency — levels, combined level, target, gap, overall score — of the
    people whose results the account may read: each one's latest completed assessment, or one cycle's."""
    r = ResultRow
    query = (select(r.id, Employee.staff_no, Cycle.code.label("cycle"), r.grade, Assessment.overall_score, r.competency_code,
                    r.self_level, r.supervisor_level, r.combined, r.target, r.gap)
             .join(Employee, Employee.id == r.employee_id).join(Cycle, Cycle.id == r.cycle_id)
             .join(Assessment, Assessment.id == r.assessment_id)
             .where(access.among(r.employee_id, access.private_ids(current_user()))).order_by(r.id))
    if args.get("cycle"):
        query = query.where(Cycle.code == args["cycle"])
    else:
        query = query.where(r.is_latest.is_(True))
    if args.get("staff_no"):
        query = query.where(Employee.staff_no == args["staff_no"])
    rows, cursor = paging.page(query, r.id, args, scalars=False, key_of=lambda row: row.id)
    return {"items": [{**row._asdict(), "grade": row.grade.value, **{k: _plain(getattr(row, k)) for k in NUMBERS}} for row in rows],
            "next": cursor}


# The results' computed numbers (weighted means and their differences, stored as floating point).
NUMBERS = ("overall_score", "combined", "gap")


def _plain(value: float | None) -> float | None:
    """A computed number without floating-point noise (4 − 3.7 is stored as 0.2999999999999998): 4 decimals."""
    return None if value is None else round(value, 4)


@bp.route("/reviews/<int:year>/recommendations")
@requires("reviews:read", permission="review.read")
@bp.arguments(schemas.RecommendationArgs, location="query")
@bp.response(200, schemas.RecommendationPage)
@responds(bp, 404)
def list_recommendations(args, year: int):
    """The annual review's recommendations of a performance year, each with its explanation (every criterion, the
    required and the actual value, met or not) and hr's decision."""
    run = get_run(year)
    if run is None:
        raise NotFound()
    query = recommendations_query(run, args.get("action")).options(contains_eager(Recommendation.employee))
    items, cursor = paging.page(query, Employee.staff_no, args, key_of=lambda rec: rec.employee.staff_no)
    return {"items": [{"staff_no": rec.employee.staff_no, "year": run.year, "run_status": run.status.value,
                       "current_grade": rec.current_grade.value, "recommended_grade": rec.recommended_grade.value,
                       "action": rec.action.value, "data_missing": rec.data_missing, "below_junior": rec.below_junior,
                       "decision": rec.decision.value, "final_grade": rec.final_grade.value if rec.final_grade else None,
                       "explanation": rec.explanation} for rec in items], "next": cursor}


@bp.route("/credits")
@requires("results:read")
@bp.arguments(schemas.CreditArgs, location="query")
@bp.response(200, schemas.CreditPage)
@responds(bp)
def list_credits(args):
    """The credit ledger (append-only: a correction is a reversing entry) of the people whose credits the account may
    read, by entry id; optionally one person's, one year's."""
    e = CreditEntry
    query = (select(e.id, Employee.staff_no, e.amount, e.earned_on, e.source, e.reason, Course.code.label("course_code"),
                    e.reverses_id.label("reverses"))
             .join(Employee, Employee.id == e.employee_id).outerjoin(Enrolment, Enrolment.id == e.enrolment_id)
             .outerjoin(Course, Course.id == Enrolment.course_id)
             .where(access.among(e.employee_id, access.credit_ids(current_user()))).order_by(e.id))
    if args.get("year"):
        first, after = year_range(args["year"])
        query = query.where(e.earned_on >= first, e.earned_on < after)
    if args.get("staff_no"):
        query = query.where(Employee.staff_no == args["staff_no"])
    rows, cursor = paging.page(query, e.id, args, scalars=False, key_of=lambda row: row.id)
    return {"items": [{**row._asdict(), "source": row.source.value} for row in rows], "next": cursor}
