"""The scoring rules (competency.services.scoring): pure functions, no app, no database.

Every expected number below is computed by hand; the arithmetic is in the comment next to it.
"""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency.services.scoring import (
    Disagreement,
    category_scores,
    combined_levels,
    disagreements,
    display,
    gaps,
    score,
)

TIGHT = 1e-12  # relative tolerance: only floating-point noise is allowed

DEFAULT_RATERS = {"self": 30, "supervisor": 70}

# The worked example: four competencies over K, S and A.
WEIGHTS = {"K1": 10, "S1": 20, "S2": 10, "A1": 5}
CATEGORIES = {"K1": "K", "S1": "S", "S2": "S", "A1": "A"}
SELF = {"K1": 3, "S1": 5, "S2": 2, "A1": 3}
SUPERVISOR = {"K1": 4, "S1": 3, "S2": 4, "A1": 5}
RATINGS = {"self": SELF, "supervisor": SUPERVISOR}


def approx(value):
    return pytest.approx(value, rel=TIGHT, abs=TIGHT)


# --- 1. worked example ------------------------------------------------------------------------


def test_worked_example_combined_levels():
    assert combined_levels(RATINGS, DEFAULT_RATERS) == {
        "K1": approx(3.7),  # (30·3 + 70·4) / 100 = (90 + 280) / 100 = 3.7
        "S1": approx(3.6),  # (30·5 + 70·3) / 100 = (150 + 210) / 100 = 3.6
        "S2": approx(3.4),  # (30·2 + 70·4) / 100 = (60 + 280) / 100 = 3.4
        "A1": approx(4.4),  # (30·3 + 70·5) / 100 = (90 + 350) / 100 = 4.4
    }


def test_worked_example_category_scores():
    levels = combined_levels(RATINGS, DEFAULT_RATERS)
    result = category_scores(levels, WEIGHTS, CATEGORIES)
    assert list(result) == ["K", "S", "A"]
    assert result["K"] == approx(74.0)  # 10·3.7 / (5·10) · 100 = 37 / 50 · 100 = 74.0
    assert result["S"] == approx(106 / 150 * 100)  # (20·3.6 + 10·3.4) / (5·30) · 100 = (72 + 34) / 150 · 100 = 70.666…
    assert result["A"] == approx(88.0)  # 5·4.4 / (5·5) · 100 = 22 / 25 · 100 = 88.0


def test_worked_example_overall_score():
    levels = combined_levels(RATINGS, DEFAULT_RATERS)
    # (10·3.7 + 20·3.6 + 10·3.4 + 5·4.4) / (5·45) · 100 = (37 + 72 + 34 + 22) / 225 · 100 = 165 / 225 · 100 = 73.333…
    assert score(levels, WEIGHTS) == approx(165 / 225 * 100)


def test_worked_example_display_rounds_only_for_display():
    levels = combined_levels(RATINGS, DEFAULT_RATERS)
    overall = score(levels, WEIGHTS)
    assert display(overall) == "73.3"  # 73.333… → 73.3
    assert overall != 73.3  # the value itself is not rounded
    assert display(category_scores(levels, WEIGHTS, CATEGORIES)["S"]) == "70.7"  # 70.666… → 70.7
    assert display(levels["K1"]) == "3.7"
    assert display(100.0) == "100.0"
    assert display(20) == "20.0"
    assert display(None) == "—"


# --- 2. edge cases ----------------------------------------------------------------------------


def test_self_weight_zero_means_only_the_supervisor_counts():
    result = combined_levels(RATINGS, {"self": 0, "supervisor": 100})
    # self is ignored: every combined level is the supervisor's level exactly
    assert result == {"K1": 4.0, "S1": 3.0, "S2": 4.0, "A1": 5.0}
    # (10·4 + 20·3 + 10·4 + 5·5) / (5·45) · 100 = (40 + 60 + 40 + 25) / 225 · 100 = 165 / 225 · 100 = 73.333…
    assert score(result, WEIGHTS) == approx(165 / 225 * 100)


def test_rater_missing_from_the_weights_is_ignored():
    assert combined_levels(RATINGS, {"supervisor": 70}) == {"K1": 4.0, "S1": 3.0, "S2": 4.0, "A1": 5.0}


def test_non_default_rater_weights():
    # (40·5 + 60·3) / 100 = (200 + 180) / 100 = 3.8
    assert combined_levels({"self": {"S1": 5}, "supervisor": {"S1": 3}}, {"self": 40, "supervisor": 60}) == {
        "S1": approx(3.8)
    }


def test_competency_rated_by_one_rater_takes_that_raters_level():
    ratings = {"self": {"K1": 3, "S1": 2}, "supervisor": {"K1": 4, "A1": 5}}
    assert combined_levels(ratings, DEFAULT_RATERS) == {
        "K1": approx(3.7),  # both rated: (30·3 + 70·4) / 100 = 3.7
        "S1": 2.0,  # only self rated: 30·2 / 30 = 2
        "A1": 5.0,  # only supervisor rated: 70·5 / 70 = 5
    }


def test_a_none_level_counts_as_not_rated():
    ratings = {"self": {"K1": None}, "supervisor": {"K1": 4}}
    assert combined_levels(ratings, DEFAULT_RATERS) == {"K1": 4.0}  # 70·4 / 70 = 4


def test_competency_rated_only_by_a_zero_weight_rater_has_no_level():
    ratings = {"self": {"K1": 3, "S1": 2}, "supervisor": {"K1": 4}}
    assert combined_levels(ratings, {"self": 0, "supervisor": 100}) == {"K1": 4.0}


def test_all_fives_score_100_and_all_ones_score_20():
    assert score(dict.fromkeys(WEIGHTS, 5), WEIGHTS) == approx(100.0)  # 5·45 / (5·45) · 100 = 100
    assert score(dict.fromkeys(WEIGHTS, 1), WEIGHTS) == approx(20.0)  # 1·45 / (5·45) · 100 = 20
    assert score({"K1": 5}, {"K1": 10}) == 100.0  # 10·5 / (5·10) · 100 = 100, exactly
    assert score({"K1": 1}, {"K1": 10}) == 20.0  # 10·1 / (5·10) · 100 = 20, exactly


def test_score_is_none_when_nothing_can_be_scored():
    assert score({}, WEIGHTS) is None
    assert score({}, {}) is None
    assert score({"X9": 4}, WEIGHTS) is None  # no weight for the only level
    assert combined_levels({}, DEFAULT_RATERS) == {}
    assert score(combined_levels({}, DEFAULT_RATERS), WEIGHTS) is None


def test_score_uses_only_competencies_with_a_level():
    # S2 and A1 unrated: (10·3.7 + 20·3.6) / (5·30) · 100 = (37 + 72) / 150 · 100 = 72.666…
    assert score({"K1": 3.7, "S1": 3.6}, WEIGHTS) == approx(109 / 150 * 100)


def test_category_without_levels_scores_none():
    result = category_scores({"K1": 4}, WEIGHTS, CATEGORIES)
    assert result == {"K": approx(80.0), "S": None, "A": None}  # K: 10·4 / (5·10) · 100 = 80
    assert display(result["S"]) == "—"
    assert category_scores({}, WEIGHTS, CATEGORIES) == {"K": None, "S": None, "A": None}


# --- 3. gaps ----------------------------------------------------------------------------------

CURRENT_GRADE_TARGETS = {"K1": 3, "S1": 4, "S2": 3, "A1": 4}
NEXT_GRADE_TARGETS = {"K1": 4, "S1": 5, "S2": 4, "A1": 5}


def test_gaps_against_current_and_next_grade_targets():
    levels = combined_levels(RATINGS, DEFAULT_RATERS)  # K1 3.7, S1 3.6, S2 3.4, A1 4.4

    current = gaps(levels, CURRENT_GRADE_TARGETS)
    assert current == {
        "K1": approx(-0.7),  # 3 − 3.7 = −0.7 (met)
        "S1": approx(0.4),  # 4 − 3.6 = 0.4 (below target)
        "S2": approx(-0.4),  # 3 − 3.4 = −0.4 (met)
        "A1": approx(-0.4),  # 4 − 4.4 = −0.4 (met)
    }
    assert {code for code, gap in current.items() if gap > 0} == {"S1"}

    following = gaps(levels, NEXT_GRADE_TARGETS)
    assert following == {
        "K1": approx(0.3),  # 4 − 3.7 = 0.3
        "S1": approx(1.4),  # 5 − 3.6 = 1.4
        "S2": approx(0.6),  # 4 − 3.4 = 0.6
        "A1": approx(0.6),  # 5 − 4.4 = 0.6
    }
    assert {code for code, gap in following.items() if gap > 0} == {"K1", "S1", "S2", "A1"}


def test_gap_of_exactly_zero_when_level_equals_target():
    assert gaps({"K1": 4.0}, {"K1": 4}) == {"K1": 0.0}  # 4 − 4 = 0 (met)


def test_gaps_skip_competencies_without_target_or_level():
    # S1 has no target; A1 has a target but no level
    assert gaps({"K1": 2.5, "S1": 3.0}, {"K1": 3, "A1": 4}) == {"K1": 0.5}  # 3 − 2.5 = 0.5
    assert gaps({"K1": 2.5}, {"K1": None}) == {}
    assert gaps({}, NEXT_GRADE_TARGETS) == {}


# --- 4. disagreements -------------------------------------------------------------------------


def test_worked_example_disagreements():
    result = disagreements(SELF, SUPERVISOR)
    assert set(result) == {"S1", "S2", "A1"}  # K1: |3 − 4| = 1, not flagged
    assert result["S1"] == Disagreement("S1", 5, 3)
    assert result["S1"].kind == "blind_spot"  # 5 − 3 = 2, self higher
    assert result["S2"].kind == "hidden_strength"  # 2 − 4 = −2, self lower
    assert result["A1"].kind == "hidden_strength"  # 3 − 5 = −2, self lower


@pytest.mark.parametrize("self_level, supervisor_level", [(3, 4), (4, 3), (1, 2), (5, 4), (3, 3)])
def test_difference_below_two_is_not_flagged(self_level, supervisor_level):
    assert disagreements({"K1": self_level}, {"K1": supervisor_level}) == {}


@pytest.mark.parametrize(
    "self_level, supervisor_level, kind",
    [
        (4, 2, "blind_spot"),  # 4 − 2 = 2, exactly the threshold, self higher
        (2, 4, "hidden_strength"),  # 2 − 4 = −2, exactly the threshold, self lower
        (5, 2, "blind_spot"),  # 5 − 2 = 3
        (1, 4, "hidden_strength"),  # 1 − 4 = −3
        (5, 1, "blind_spot"),  # 5 − 1 = 4
        (1, 5, "hidden_strength"),  # 1 − 5 = −4
    ],
)
def test_difference_of_two_or_more_is_flagged_with_the_right_kind(self_level, supervisor_level, kind):
    result = disagreements({"K1": self_level}, {"K1": supervisor_level})
    assert result == {"K1": Disagreement("K1", self_level, supervisor_level)}
    assert result["K1"].kind == kind


def test_disagreement_needs_both_raters():
    assert disagreements({"K1": 5, "S1": None}, {"S1": 1, "A1": 1}) == {}
    assert disagreements({}, {"K1": 1}) == {}


# --- 5. properties ----------------------------------------------------------------------------

CODES = [f"C{i}" for i in range(8)]
competency_weight = st.floats(min_value=0.1, max_value=100, allow_nan=False, allow_infinity=False)
level = st.floats(min_value=1, max_value=5, allow_nan=False, allow_infinity=False)

# The score is computed in floating point: Σ w·l and 5·Σ w round separately, so all-5 levels with
# weights like 0.1/0.7/0.3 give 100.00000000000003. The bounds allow that noise and nothing more.
NOISE = 1e-9


@st.composite
def weights_and_levels(draw):
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=len(CODES), unique=True))
    weights = {code: draw(competency_weight) for code in codes}
    levels = {code: draw(level) for code in codes}
    return weights, levels


@settings(max_examples=200, deadline=None)
@given(weights_and_levels())
def test_property_overall_score_is_between_20_and_100(case):
    weights, levels = case
    result = score(levels, weights)
    assert result is not None
    assert 20 - NOISE <= result <= 100 + NOISE  # levels 1..5 → 20..100, hence within 0..100
    assert 0 <= float(display(result)) <= 100


@st.composite
def a_raise(draw):
    weights, levels = draw(weights_and_levels())
    code = draw(st.sampled_from(sorted(levels)))
    levels[code] = draw(st.floats(min_value=1, max_value=4.99, allow_nan=False, allow_infinity=False))
    # a raise of at least 0.001 (well above float noise), and staying ≤ 5
    raised = draw(st.floats(min_value=levels[code] + 0.001, max_value=5, allow_nan=False, allow_infinity=False))
    return weights, levels, code, raised


@settings(max_examples=200, deadline=None)
@given(a_raise())
def test_property_raising_one_level_strictly_increases_the_score(case):
    weights, levels, code, raised = case
    before = score(levels, weights)
    after = score({**levels, code: raised}, weights)
    assert after > before


def test_display_rounds_half_up_for_display_only():
    from competency.services.scoring import display

    assert display(72.25) == "72.3"    # 四舍五入, not banker's rounding
    assert display(72.24) == "72.2"
    assert display(-0.05) == "-0.1"
    assert display(None) == "—"
