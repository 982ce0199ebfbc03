"""The API's marshmallow schemas: they validate requests and, through flask-smorest, are the OpenAPI document.
Codes are those of docs/domain.md; dates YYYY-MM-DD."""
from marshmallow import Schema, fields, validate

from ..models import (
    SCOPES,
    Category,
    CourseType,
    Delivery,
    EmployeeStatus,
    Grade,
    OrgUnitKind,
    ReviewAction,
    Role,
)
from .items import Items

# Items of one bulk request: a nightly sync sends its rows in batches of at most this many.
MAX_BATCH = 5_000
MAX_PAGE = 500


def codes(enum) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum])


def text(length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(1, length), **kwargs)


def optional_text(length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(max=length), allow_none=True, load_default=None, **kwargs)


def between(low, high=None):
    """A bound on a decimal, documented as a number (apispec writes a Range's decimal bounds as strings, which is not
    JSON Schema): the field's metadata says "minimum" and "maximum"."""
    check = validate.Range(low, high)

    def validator(value):
        return check(value)

    return validator


def decimal_text(**metadata) -> fields.Decimal:
    """A decimal answered as text ("8.00": exact, as stored), documented as a string."""
    return fields.Decimal(required=True, as_string=True, metadata={"type": "string", "pattern": r"^-?\d+(\.\d+)?$", **metadata})


class Strict(Schema):
    class Meta:
        ordered = True


# --- lists -------------------------------------------------------------------------------------------


class PageArgs(Strict):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MAX_PAGE),
                           metadata={"description": f"Items per page (1–{MAX_PAGE})."})
    after = fields.String(load_default=None, validate=validate.Length(max=200),
                          metadata={"description": "The `next` cursor of the previous page; leave out for the first page."})


class PageOut(Strict):
    next = fields.String(allow_none=True, required=True,
                         metadata={"description": "Cursor of the next page (pass as `after`), null on the last page."})


# --- org units ---------------------------------------------------------------------------------------


class OrgUnitFields(Strict):
    parent_code = optional_text(32, metadata={"description": "The parent unit's code; null for the head office."})
    kind = fields.String(required=True, validate=codes(OrgUnitKind))
    name_zh = text(120, required=True)
    name_en = text(120, required=True)


class OrgUnitItem(OrgUnitFields):
    code = text(32, required=True)


class OrgUnitOut(OrgUnitItem):
    pass


class OrgUnitPage(PageOut):
    items = fields.List(fields.Nested(OrgUnitOut), required=True)


class OrgUnitBulk(Strict):
    items = Items(OrgUnitItem, required=True, validate=validate.Length(1, MAX_BATCH))


# --- employees ---------------------------------------------------------------------------------------


class EmployeeFields(Strict):
    name_zh = text(120, required=True)
    name_en = text(120, required=True)
    org_unit_code = text(32, required=True)
    position_code = text(32, required=True)
    grade = fields.String(required=True, validate=codes(Grade))
    hire_date = fields.Date(required=True)
    probation_end = fields.Date(allow_none=True, load_default=None,
                                metadata={"description": "Default: the hire date plus the probation length."})
    supervisor_staff_no = optional_text(32)
    email = optional_text(254, metadata={"description": "The account's email (creating or changing one: admin tokens only)."})
    roles = fields.List(fields.String(validate=codes(Role)), load_default=None, allow_none=True,
                        metadata={"description": "The account's roles; given, an account is created or its roles set "
                                                 "(admin tokens only). Left out: the account is left as it is."})


class EmployeeItem(EmployeeFields):
    staff_no = text(32, required=True)


class EmployeeOut(Strict):
    staff_no = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    org_unit_code = fields.String(required=True)
    position_code = fields.String(required=True)
    grade = fields.String(required=True, validate=codes(Grade))
    status = fields.String(required=True, validate=codes(EmployeeStatus))
    hire_date = fields.Date(required=True)
    probation_end = fields.Date(required=True)
    supervisor_staff_no = fields.String(allow_none=True, required=True)


class EmployeePage(PageOut):
    items = fields.List(fields.Nested(EmployeeOut), required=True)


class EmployeeArgs(PageArgs):
    org_unit = fields.String(validate=validate.Length(1, 32), metadata={"description": "An org unit's code: its whole subtree."})
    position = fields.String(validate=validate.Length(1, 32), metadata={"description": "A position's code."})
    grade = fields.String(validate=codes(Grade))
    status = fields.String(validate=codes(EmployeeStatus))
    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "Part of a staff number or name."})


class EmployeeBulk(Strict):
    items = Items(EmployeeItem, required=True, validate=validate.Length(1, MAX_BATCH))


# --- feeds -------------------------------------------------------------------------------------------


class SalesItem(Strict):
    staff_no = text(32, required=True)
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    amount = fields.Decimal(required=True, validate=between(0), metadata={"description": "The year's sales volume.", "minimum": 0})


class SalesBulk(Strict):
    items = Items(SalesItem, required=True, validate=validate.Length(1, MAX_BATCH))


class CompletionItem(Strict):
    external_id = text(64, required=True, metadata={"description": "The e-learning platform's id of this completion: "
                                                                   "sent again, it records nothing twice."})
    staff_no = text(32, required=True)
    course_code = text(32, required=True)
    completed_on = fields.Date(required=True, metadata={"description": "Not after today."})
    result = fields.String(required=True, validate=validate.OneOf(["pass", "fail"]))
    score = fields.Decimal(allow_none=True, load_default=None, validate=between(0, 100), metadata={"minimum": 0, "maximum": 100})


class CompletionBulk(Strict):
    items = Items(CompletionItem, required=True, validate=validate.Length(1, MAX_BATCH))


class RowAction(Strict):
    row = fields.Integer(required=True, metadata={"description": "The item's number in the request, from 1."})
    key = fields.String(required=True)
    action = fields.String(required=True, validate=validate.OneOf(["create", "update", "unchanged"]))


class BulkResult(Strict):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    items = fields.List(fields.Nested(RowAction), required=True)


# --- catalogue and models ------------------------------------------------------------------------------


class CourseCompetencyOut(Strict):
    competency_code = fields.String(required=True)
    up_to_level = fields.Integer(required=True)


class CourseOut(Strict):
    code = fields.String(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    type = fields.String(required=True, validate=codes(CourseType))
    delivery = fields.String(required=True, validate=codes(Delivery))
    hours = decimal_text()
    credits = decimal_text()
    active = fields.Boolean(required=True)
    competencies = fields.List(fields.Nested(CourseCompetencyOut), required=True)


class CoursePage(PageOut):
    items = fields.List(fields.Nested(CourseOut), required=True)


class DescriptorOut(Strict):
    level = fields.Integer(required=True)
    text_zh = fields.String(required=True)
    text_en = fields.String(required=True)


class CompetencyOut(Strict):
    code = fields.String(required=True)
    category = fields.String(required=True, validate=codes(Category))
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    description_zh = fields.String(required=True)
    description_en = fields.String(required=True)
    weight = decimal_text()
    descriptors = fields.List(fields.Nested(DescriptorOut), required=True)
    targets = fields.Dict(keys=fields.String(validate=codes(Grade)), values=fields.Integer(), required=True,
                          metadata={"description": "The level each grade requires."})


class ModelOut(Strict):
    position_code = fields.String(required=True)
    version = fields.Integer(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    published_at = fields.DateTime(required=True)
    competencies = fields.List(fields.Nested(CompetencyOut), required=True)


class ModelList(Strict):
    items = fields.List(fields.Nested(ModelOut), required=True)


# --- results, reviews, credits -------------------------------------------------------------------------


class ResultArgs(PageArgs):
    staff_no = fields.String(validate=validate.Length(1, 32))
    cycle = fields.String(validate=validate.Length(1, 40),
                          metadata={"description": "A cycle's code; left out: each person's latest completed assessment."})


class ResultOut(Strict):
    staff_no = fields.String(required=True)
    cycle = fields.String(required=True)
    grade = fields.String(required=True, validate=codes(Grade), metadata={"description": "The grade when assessed."})
    overall_score = fields.Float(allow_none=True, required=True, metadata={"description": "On the 100-point scale."})
    competency_code = fields.String(required=True)
    self_level = fields.Integer(allow_none=True, required=True)
    supervisor_level = fields.Integer(required=True)
    combined = fields.Float(required=True)
    target = fields.Integer(allow_none=True, required=True)
    gap = fields.Float(allow_none=True, required=True)


class ResultPage(PageOut):
    items = fields.List(fields.Nested(ResultOut), required=True)


class RecommendationArgs(PageArgs):
    action = fields.String(validate=codes(ReviewAction))


class RecommendationOut(Strict):
    staff_no = fields.String(required=True)
    year = fields.Integer(required=True)
    run_status = fields.String(required=True)
    current_grade = fields.String(required=True, validate=codes(Grade))
    recommended_grade = fields.String(required=True, validate=codes(Grade))
    action = fields.String(required=True, validate=codes(ReviewAction))
    data_missing = fields.Boolean(required=True)
    below_junior = fields.Boolean(required=True)
    decision = fields.String(required=True)
    final_grade = fields.String(allow_none=True, required=True)
    explanation = fields.Dict(required=True, metadata={"description": "Each criterion: required value, actual value, met."})


class RecommendationPage(PageOut):
    items = fields.List(fields.Nested(RecommendationOut), required=True)


class CreditArgs(PageArgs):
    staff_no = fields.String(validate=validate.Length(1, 32))
    year = fields.Integer(validate=validate.Range(1900, 2100))  # as far back as a completion may be dated


class CreditOut(Strict):
    id = fields.Integer(required=True)
    staff_no = fields.String(required=True)
    amount = decimal_text(description="Negative for a reversing entry.")
    earned_on = fields.Date(required=True)
    source = fields.String(required=True)
    reason = fields.String(required=True)
    course_code = fields.String(allow_none=True, required=True)
    reverses = fields.Integer(allow_none=True, required=True, metadata={"description": "The id of the entry this one reverses."})


class CreditPage(PageOut):
    items = fields.List(fields.Nested(CreditOut), required=True)


class TokenOut(Strict):
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    scopes = fields.List(fields.String(validate=validate.OneOf(SCOPES)), required=True)
    account = fields.String(required=True)
    roles = fields.List(fields.String(validate=codes(Role)), required=True)
    expires_on = fields.Date(allow_none=True, required=True)




class ProblemError(Strict):
    pointer = fields.String(required=True, metadata={"description": "JSON pointer to the value at fault (`/items/3/grade`)."})
    detail = fields.String(required=True)
    row = fields.Integer(metadata={"description": "The item's number in a bulk request, from 1."})
    field = fields.String(allow_none=True)


class Problem(Strict):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(ProblemError))
