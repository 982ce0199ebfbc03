"""The grade review engine's rules, each with exact expectations (pure: no database)."""
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from competency.models import Grade, ReviewAction
from competency.services.review.engine import PersonInput, Standard, evaluate

AS_OF = date(2026, 1, 15)
STANDARDS = {
    Grade.JUNIOR: Standard(Decimal(300), Decimal(40), Decimal(20)),
    Grade.INTERMEDIATE: Standard(Decimal(800), Decimal(60), Decimal(30)),
    Grade.SENIOR: Standard(Decimal(1500), Decimal(78), Decimal(40), "AFP"),
}


def person(grade=Grade.JUNIOR, sales=500, score=65.0, credits=25, certs=(), **extra):
    return PersonInput(employee_id=1, staff_no="E1", grade=grade, probation_end=date(2020, 4, 1), org_unit_id=1, position_id=1,
                       sales=None if sales is None else Decimal(sales), credits=Decimal(credits), score=score,
                       certifications=frozenset(certs), **extra)


def run(p):
    return evaluate(p, STANDARDS, "万元", AS_OF)


def test_rule1_trainee_confirmed_qualified_is_confirmed_as_junior():
    outcome = run(PersonInput(1, "T1", Grade.TRAINEE, date(2025, 12, 31), 1, 1, qualified=True))
    assert (outcome.reviewed, outcome.recommended, outcome.action) == (True, Grade.JUNIOR, ReviewAction.CONFIRM)
    assert outcome.explanation["rule"] == "probation_confirmed"


def test_rule1_trainee_not_qualified_is_referred():
    outcome = run(PersonInput(1, "T1", Grade.TRAINEE, date(2025, 12, 31), 1, 1, qualified=False))
    assert (outcome.recommended, outcome.action) == (Grade.TRAINEE, ReviewAction.REFER)
    assert outcome.explanation == {"rule": "probation_refer", "probation_end": "2025-12-31", "confirmation": "not_qualified"}


def test_rule1_trainee_without_confirmation_is_referred():
    outcome = run(PersonInput(1, "T1", Grade.TRAINEE, date(2025, 12, 31), 1, 1))
    assert outcome.action == ReviewAction.REFER and outcome.explanation["confirmation"] == "missing"


def test_rule1_trainee_still_in_probation_is_not_reviewed():
    assert run(PersonInput(1, "T1", Grade.TRAINEE, date(2026, 2, 1), 1, 1, qualified=True)).reviewed is False


def test_rule2_highest_grade_met_wins():
    # meets senior (sales 1600, score 80, credits 45, AFP) → promote junior straight to senior
    outcome = run(person(Grade.JUNIOR, sales=1600, score=80, credits=45, certs=["AFP"]))
    assert (outcome.recommended, outcome.action) == (Grade.SENIOR, ReviewAction.PROMOTE)
    assert [g["met"] for g in outcome.explanation["grades"]] == [True, True, True]
    # meets senior's numbers but lacks the certification → intermediate
    assert run(person(Grade.JUNIOR, sales=1600, score=80, credits=45)).recommended == Grade.INTERMEDIATE


def test_rule2_credits_gate_promotion_but_not_retention():
    # an intermediate with 0 credits keeps intermediate (credits do not count for keeping a grade) …
    keep = run(person(Grade.INTERMEDIATE, sales=900, score=65, credits=0))
    assert (keep.recommended, keep.action) == (Grade.INTERMEDIATE, ReviewAction.KEEP)
    credits = [c for g in keep.explanation["grades"] for c in g["criteria"] if c["criterion"] == "credits"]
    assert [c["met"] for c in credits] == [None, None, False]   # junior, intermediate: not applicable; senior: not met
    # … while a junior with the same figures is not promoted for lack of credits
    stay = run(person(Grade.JUNIOR, sales=900, score=65, credits=0))
    assert (stay.recommended, stay.action) == (Grade.JUNIOR, ReviewAction.KEEP)
    assert run(person(Grade.JUNIOR, sales=900, score=65, credits=30)).action == ReviewAction.PROMOTE


def test_rule6_missing_assessment_is_referred_and_says_so():
    outcome = run(person(Grade.INTERMEDIATE, sales=2000, score=None, credits=50))
    assert (outcome.recommended, outcome.action, outcome.below_junior, outcome.data_missing) == (
        Grade.INTERMEDIATE, ReviewAction.REFER, False, True)
    assert (outcome.explanation["rule"], outcome.explanation["missing"]) == ("data_missing", ["assessment"])
    score = outcome.explanation["grades"][0]["criteria"][1]
    assert score == {"criterion": "score", "required": 40.0, "actual": None, "met": False, "note": "no_assessment"}


def test_rule6_missing_sales_even_after_a_below_junior_year_is_not_a_transfer():
    outcome = run(person(Grade.JUNIOR, sales=None, score=20, below_junior_last_year=True))
    assert (outcome.action, outcome.below_junior, outcome.explanation["missing"]) == (ReviewAction.REFER, False, ["sales"])


@settings(max_examples=200, deadline=None)
@given(grade=st.sampled_from([Grade.JUNIOR, Grade.INTERMEDIATE, Grade.SENIOR]), sales=st.one_of(st.none(), st.integers(0, 3000)),
       score=st.one_of(st.none(), st.floats(0, 100)), credits=st.integers(0, 60), last=st.booleans())
def test_property_missing_data_never_demotes_or_transfers(grade, sales, score, credits, last):
    outcome = run(person(grade, sales=sales, score=score, credits=credits, below_junior_last_year=last))
    if sales is None or score is None:
        assert (outcome.recommended, outcome.action, outcome.below_junior, outcome.data_missing) == (
            grade, ReviewAction.REFER, False, True)
    else:
        assert not outcome.data_missing


def test_rule3_floor_at_junior():
    outcome = run(person(Grade.SENIOR, sales=100, score=30, credits=0))
    assert (outcome.recommended, outcome.action, outcome.below_junior) == (Grade.JUNIOR, ReviewAction.DEMOTE, True)
    assert outcome.explanation["rule"] == "floor_junior"
    junior = run(person(Grade.JUNIOR, sales=100, score=30))
    assert (junior.recommended, junior.action, junior.below_junior) == (Grade.JUNIOR, ReviewAction.KEEP, True)


def test_rule4_two_consecutive_below_junior_means_transfer():
    outcome = run(person(Grade.JUNIOR, sales=100, score=30, below_junior_last_year=True))
    assert (outcome.action, outcome.below_junior, outcome.explanation["rule"]) == (ReviewAction.TRANSFER, True, "transfer_two_years")


def test_rule4_one_below_junior_year_alone_is_not_a_transfer():
    assert run(person(Grade.JUNIOR, sales=100, score=30)).action == ReviewAction.KEEP
    # last year below junior, this year meeting junior: no transfer
    assert run(person(Grade.JUNIOR, sales=400, score=50, below_junior_last_year=True)).action == ReviewAction.KEEP


def test_rule5_promote_keep_demote():
    assert run(person(Grade.JUNIOR, sales=900, score=65, credits=30)).action == ReviewAction.PROMOTE
    assert run(person(Grade.INTERMEDIATE, sales=900, score=65, credits=0)).action == ReviewAction.KEEP
    demoted = run(person(Grade.SENIOR, sales=900, score=65, credits=0, certs=["AFP"]))
    assert (demoted.recommended, demoted.action) == (Grade.INTERMEDIATE, ReviewAction.DEMOTE)


def test_explanation_lists_required_actual_and_met_for_every_criterion():
    outcome = run(person(Grade.JUNIOR, sales=850, score=61.5, credits=12))
    intermediate = outcome.explanation["grades"][1]
    assert intermediate == {"grade": "intermediate", "met": False, "criteria": [
        {"criterion": "sales", "required": 800.0, "unit": "万元", "actual": 850.0, "met": True},
        {"criterion": "score", "required": 60.0, "actual": 61.5, "met": True},
        {"criterion": "credits", "required": 30.0, "actual": 12.0, "met": False},
    ]}


grades = st.sampled_from([Grade.JUNIOR, Grade.INTERMEDIATE, Grade.SENIOR])


@settings(max_examples=300, deadline=None)
@given(grade=grades, sales=st.integers(0, 3000), extra=st.integers(1, 3000), score=st.one_of(st.none(), st.floats(0, 100)),
       credits=st.integers(0, 60), afp=st.booleans(), last=st.booleans())
def test_property_recommended_grade_never_falls_when_sales_rise(grade, sales, extra, score, credits, afp, last):
    certs = ["AFP"] if afp else []
    before = run(person(grade, sales=sales, score=score, credits=credits, certs=certs, below_junior_last_year=last))
    after = run(person(grade, sales=sales + extra, score=score, credits=credits, certs=certs, below_junior_last_year=last))
    assert after.recommended.rank >= before.recommended.rank
