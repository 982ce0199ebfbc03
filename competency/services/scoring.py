"""Assessment scoring: pure functions over plain numbers, no database.

Levels are 1–5. A rater set maps rater ("self", "supervisor") to {competency code: level}.
"""
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

DISAGREEMENT = 2


def combined_levels(ratings: dict[str, dict[str, int]], rater_weights: dict[str, float]) -> dict[str, float]:
    """Per competency, the weighted mean of the raters who rated it (raters with weight 0 are ignored)."""
    result: dict[str, float] = {}
    codes = {code for levels in ratings.values() for code in levels}
    for code in codes:
        total = weight_sum = 0.0
        for rater, levels in ratings.items():
            weight = rater_weights.get(rater, 0)
            if weight > 0 and levels.get(code) is not None:
                total += weight * levels[code]
                weight_sum += weight
        if weight_sum > 0:
            result[code] = total / weight_sum
    return result


def score(levels: dict[str, float], weights: dict[str, float]) -> float | None:
    """The 100-point score Σ wᵢ·levelᵢ / (5·Σ wᵢ) · 100 over the competencies that have a level."""
    used = [code for code in levels if code in weights]
    weight_sum = math.fsum(weights[c] for c in used)
    if not used or weight_sum <= 0:
        return None
    value = math.fsum(weights[c] * levels[c] for c in used) / (5 * weight_sum) * 100
    return min(100.0, value)  # the bound holds exactly; this only trims floating-point excess


def category_scores(levels: dict[str, float], weights: dict[str, float], categories: dict[str, str]) -> dict[str, float | None]:
    """The 100-point score of each category (K, S, A) on its own competencies."""
    result = {}
    for category in sorted(set(categories.values()), key="KSA".index):
        codes = {c for c, cat in categories.items() if cat == category}
        result[category] = score({c: v for c, v in levels.items() if c in codes}, {c: w for c, w in weights.items() if c in codes})
    return result


def gaps(levels: dict[str, float], targets: dict[str, int]) -> dict[str, float]:
    """Target minus level per competency (positive: below target; zero or negative: met)."""
    return {code: targets[code] - level for code, level in levels.items() if targets.get(code) is not None}


@dataclass(frozen=True)
class Disagreement:
    code: str
    self_level: int
    supervisor_level: int

    @property
    def kind(self) -> str:
        """'blind_spot' when the person rates themself higher, 'hidden_strength' when lower."""
        return "blind_spot" if self.self_level > self.supervisor_level else "hidden_strength"


def disagreements(self_levels: dict[str, int], supervisor_levels: dict[str, int]) -> dict[str, Disagreement]:
    """Competencies where self and supervisor differ by 2 levels or more."""
    return {
        code: Disagreement(code, self_levels[code], supervisor_levels[code])
        for code in self_levels
        if supervisor_levels.get(code) is not None and self_levels[code] is not None
        and abs(self_levels[code] - supervisor_levels[code]) >= DISAGREEMENT
    }


def display(value: float | None) -> str:
    """A score or level rounded half up to one decimal, for display only (stored values are never rounded)."""
    if value is None:
        return "—"
    return str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
