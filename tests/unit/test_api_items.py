"""A bulk request's items are loaded by a fast check that must give marshmallow's result, or leave it to marshmallow."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from competency.api import schemas
from competency.api.items import item_check

ITEM_SCHEMAS = [schemas.OrgUnitItem, schemas.EmployeeItem, schemas.SalesItem, schemas.CompletionItem]

# Values a client might send for any field: well-formed ones and every JSON type in its odd forms.
VALUES = st.one_of(
    st.sampled_from(["E0001", "junior", "pass", "sub_branch", "admin", "CM_CORP", "2024-03-01", "2024-02-30", "20240301",
                     "2024/3/1", "12.5", "1e3", "-1", "NaN", "", " ", "x" * 33, "x" * 121, "x" * 255]),
    st.text(max_size=40), st.none(), st.booleans(), st.integers(-10**25, 10**25),
    st.floats(allow_nan=True, allow_infinity=True), st.lists(st.sampled_from(["employee", "hr", "boss", 3]), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _reference(item_schema) -> Schema:
    """What the bulk schema was before the fast check: marshmallow's List of Nested."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema), required=True)})()


def _valid(item_schema) -> dict:
    return {"OrgUnitItem": {"code": "U1", "parent_code": None, "kind": "sub_branch", "name_zh": "支行", "name_en": "Branch"},
            "EmployeeItem": {"staff_no": "E1", "name_zh": "张伟", "name_en": "Zhang Wei", "org_unit_code": "U1",
                             "position_code": "CM_CORP", "grade": "junior", "hire_date": "2024-03-01", "roles": ["employee"]},
            "SalesItem": {"staff_no": "E1", "year": 2025, "amount": 1250.5},
            "CompletionItem": {"external_id": "lms-1", "staff_no": "E1", "course_code": "S5-101", "completed_on": "2025-06-01",
                               "result": "pass", "score": "92.5"}}[item_schema.__name__]


@pytest.mark.parametrize("item_schema", ITEM_SCHEMAS, ids=lambda s: s.__name__)
def test_well_formed_items_take_the_fast_path_with_marshmallows_result(item_schema):
    check = item_check(item_schema())
    items = [_valid(item_schema), {k: v for k, v in _valid(item_schema).items() if k not in ("parent_code", "roles", "score")}]
    assert check is not None and check(items) is not None
    assert check(items) == _reference(item_schema).load({"items": items})["items"]


@pytest.mark.parametrize("item_schema", ITEM_SCHEMAS, ids=lambda s: s.__name__)
@settings(max_examples=300, deadline=None, database=None)
@given(data=st.data())
def test_the_fast_check_accepts_only_what_marshmallow_loads_the_same(item_schema, data):
    names = list(item_schema().fields) + ["unknown"]
    base = _valid(item_schema)
    changes = data.draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=3))
    dropped = data.draw(st.sets(st.sampled_from(names), max_size=2))
    item = {k: v for k, v in {**base, **changes}.items() if k not in dropped}
    fast = item_check(item_schema())([item])
    try:
        expected = _reference(item_schema).load({"items": [item]})["items"]
    except ValidationError:
        expected = None
    assert fast is None or fast == expected


def test_a_bulk_request_with_errors_gets_marshmallows_messages_and_pointers():
    items = [_valid(schemas.EmployeeItem), {**_valid(schemas.EmployeeItem), "grade": "boss", "hire_date": "1.1.2024", "x": 1}]
    with pytest.raises(ValidationError) as fast:
        schemas.EmployeeBulk().load({"items": items})
    with pytest.raises(ValidationError) as reference:
        _reference(schemas.EmployeeItem).load({"items": items})
    assert fast.value.messages == reference.value.messages and set(fast.value.messages["items"][1]) == {"grade", "hire_date", "x"}
