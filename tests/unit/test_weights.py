"""A competency's weight is stored with two decimals: one that would be stored as 0.00 is refused, in the editor
and in a model file (the fuzz test found 0.0000001 crashing the import on PostgreSQL's weight > 0 check)."""
from decimal import Decimal

import pytest

from competency.errors import DomainError
from competency.services.ksa.editor import parse_weight


@pytest.mark.parametrize("value", ["0.0000001", "0.004", "0", "-1", "NaN", "Infinity"])
def test_a_weight_that_is_not_positive_once_stored_is_refused(value):
    with pytest.raises(DomainError):
        parse_weight(value)


@pytest.mark.parametrize(("value", "weight"), [("0.005", Decimal("0.005")), ("0.01", Decimal("0.01")), ("11", Decimal("11"))])
def test_a_positive_weight_is_taken(value, weight):
    assert parse_weight(value) == weight
