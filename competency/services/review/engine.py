"""The rules of the annual grade review as a pure function over one person's data (docs/domain.md, "Annual
grade review"); no database here, so the rules are property-tested directly.

1. A trainee whose probation has ended: confirmed qualified → confirm (junior); otherwise → refer to hr.
   A trainee still in probation is not reviewed.
2. Everyone else: the recommended grade is the highest grade whose standard is fully met with the performance
   year's sales, credits earned in that year and the overall score of the latest completed assessment whose cycle
   ends in that year; a credit minimum counts only for grades above the current one.
3. No standard met: junior (the floor), flagged below_junior.
4. below_junior now and in the finalised review of the year before → transfer (转岗).
5. Otherwise promote, keep or demote by comparing the recommended grade with the current one.
6. Missing data never punishes: without the year's sales or a completed assessment in the year, the person is
   referred to hr (data_missing), never demoted or transferred, and the year is not below_junior.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ...models import Grade, ReviewAction

REVIEWED_GRADES = (Grade.JUNIOR, Grade.INTERMEDIATE, Grade.SENIOR)


# Grade.rank, read once: the review compares ranks several times per person.
RANK = {grade: grade.rank for grade in Grade}


@dataclass(frozen=True)
class Standard:
    min_sales: Decimal
    min_score: Decimal
    min_credits: Decimal
    certification: str | None = None
    # The required values as the explanation shows them, converted once per standard rather than once per person.
    shown: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "shown", (float(self.min_sales), float(self.min_score), float(self.min_credits)))


@dataclass(slots=True)
class PersonInput:
    employee_id: int
    staff_no: str
    grade: Grade
    probation_end: date
    org_unit_id: int
    position_id: int
    sales: Decimal | None = None
    credits: Decimal = Decimal(0)
    score: float | None = None
    certifications: frozenset = frozenset()
    qualified: bool | None = None
    below_junior_last_year: bool = False


@dataclass
class Outcome:
    reviewed: bool
    recommended: Grade | None = None
    action: ReviewAction | None = None
    below_junior: bool = False
    explanation: dict = field(default_factory=dict)
    data_missing: bool = False


def criteria(person: PersonInput, grade: Grade, standard: Standard, unit: str) -> list[dict]:
    """Each criterion of one grade's standard: required, actual, met (None where it does not apply)."""
    return _criteria(person, _actuals(person), grade, standard, unit)


def _actuals(person: PersonInput) -> tuple:
    """The person's values as the explanation shows them (the same for every grade's criteria)."""
    return (None if person.sales is None else float(person.sales), None if person.score is None else round(person.score, 4),
            float(person.credits), sorted(person.certifications))


def _criteria(person: PersonInput, actuals: tuple, grade: Grade, standard: Standard, unit: str) -> list[dict]:
    sales, score, credits, held = actuals
    min_sales, min_score, min_credits = standard.shown
    first = {"criterion": "sales", "required": min_sales, "unit": unit, "actual": sales,
             "met": sales is not None and person.sales >= standard.min_sales}
    if sales is None:
        first["note"] = "no_sales"
    second = {"criterion": "score", "required": min_score, "actual": score,
              "met": score is not None and person.score >= min_score - 1e-9}
    if score is None:
        second["note"] = "no_assessment"
    if RANK[grade] > RANK[person.grade]:
        third = {"criterion": "credits", "required": min_credits, "actual": credits, "met": person.credits >= standard.min_credits}
    else:
        third = {"criterion": "credits", "required": min_credits, "actual": credits, "met": None, "note": "promotion_only"}
    if not standard.certification:
        return [first, second, third]
    return [first, second, third, {"criterion": "certification", "required": standard.certification, "actual": held,
                                   "met": standard.certification in person.certifications}]


def _probation(person: PersonInput, as_of: date) -> Outcome:
    """Rule 1: a trainee is confirmed or referred once probation has ended."""
    if person.probation_end > as_of:
        return Outcome(reviewed=False)
    if person.qualified:
        return Outcome(True, Grade.JUNIOR, ReviewAction.CONFIRM, False,
                       {"rule": "probation_confirmed", "probation_end": person.probation_end.isoformat()})
    return Outcome(True, Grade.TRAINEE, ReviewAction.REFER, False,
                   {"rule": "probation_refer", "probation_end": person.probation_end.isoformat(),
                    "confirmation": "not_qualified" if person.qualified is False else "missing"})


def _action(person: PersonInput, recommended: Grade, below_junior: bool) -> tuple[ReviewAction, str]:
    """Rules 4 and 5: transfer after two years below junior, else promote, keep or demote."""
    if below_junior and person.below_junior_last_year:
        return ReviewAction.TRANSFER, "transfer_two_years"
    rule = "floor_junior" if below_junior else "highest_met"
    if RANK[recommended] > RANK[person.grade]:
        return ReviewAction.PROMOTE, rule
    if RANK[recommended] < RANK[person.grade]:
        return ReviewAction.DEMOTE, rule
    return ReviewAction.KEEP, rule


def missing_data(person: PersonInput) -> list[str]:
    """What the year lacks for this person: "sales", "assessment" (empty when the data is complete)."""
    return [name for name, value in (("sales", person.sales), ("assessment", person.score)) if value is None]


def evaluate(person: PersonInput, standards: dict[Grade, Standard], unit: str, as_of: date) -> Outcome:
    """Apply the rules to one person (pure: no database)."""
    if person.grade == Grade.TRAINEE:
        return _probation(person, as_of)
    grades, best, actuals = [], None, _actuals(person)
    for grade in REVIEWED_GRADES:
        standard = standards.get(grade)
        if standard is None:
            continue
        items = _criteria(person, actuals, grade, standard, unit)
        met = all(c["met"] is not False for c in items)
        grades.append({"grade": grade.value, "met": met, "criteria": items})
        if met:
            best = grade
    missing = missing_data(person)
    if missing:  # rule 6: hr decides; the grade stays, and the year does not count as below junior
        return Outcome(True, person.grade, ReviewAction.REFER, False,
                       {"rule": "data_missing", "missing": missing, "grades": grades}, data_missing=True)
    below_junior = best is None
    recommended = best or Grade.JUNIOR
    action, rule = _action(person, recommended, below_junior)
    return Outcome(True, recommended, action, below_junior, {"rule": rule, "grades": grades})
