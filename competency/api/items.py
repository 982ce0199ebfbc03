"""The items of a bulk request (up to 5,000 objects), checked at a tenth of marshmallow's cost.

marshmallow deserialises each of an item's fields through several method calls, which for a batch of 5,000 items
costs about as much as the import that follows. `Items` is a marshmallow List of Nested items — documented and, when
anything is out of the ordinary, validated exactly as one — whose well-formed items are first checked by a plain
function made once from the item schema's fields (their type, required or not, None allowed or not, defaults and
validators). That check only accepts: a value it would convert differently from marshmallow, or does not know, makes
the whole list go through marshmallow, which gives the errors with their pointers. So the result is always
marshmallow's (tests/unit/test_api_items.py compares the two on generated items)."""
import datetime as dt
import math
import re
from decimal import Decimal

from marshmallow import ValidationError, fields, missing, validate

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"-?\d{1,20}(\.\d{1,20})?")


class _Defer(Exception):
    """The fast check does not accept this value: marshmallow decides."""


def _string(value):
    if type(value) is not str:
        raise _Defer
    return value


def _date(value):
    if type(value) is not str or not _DATE.fullmatch(value):
        raise _Defer
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _Defer from None


def _decimal(value):
    if type(value) is int or (type(value) is float and math.isfinite(value)) or (type(value) is str and _NUMBER.fullmatch(value)):
        return Decimal(str(value))
    raise _Defer


def _integer(value):
    if type(value) is not int:
        raise _Defer
    return value


_CONVERTERS = {fields.String: _string, fields.Date: _date, fields.Integer: _integer}


def _validator(check):
    """A plain function for a marshmallow validator: Length and OneOf inline, any other called as marshmallow calls it."""
    if type(check) is validate.Length and check.equal is None:
        low, high = check.min, check.max

        def length(value):
            if (low is not None and len(value) < low) or (high is not None and len(value) > high):
                raise _Defer
        return length
    if type(check) is validate.OneOf:
        choices = frozenset(check.choices)

        def one_of(value):
            if value not in choices:
                raise _Defer
        return one_of

    def other(value):
        try:
            if check(value) is False:
                raise _Defer
        except ValidationError:
            raise _Defer from None
    return other


def _field_check(field: fields.Field):
    """(value → loaded value, raising _Defer) for a field of a kind this module knows, else None."""
    if field.data_key is not None or field.attribute is not None or field.pre_load or field.post_load:
        return None
    if type(field) is fields.Decimal:
        if field.places is not None or field.allow_nan or field.as_string:
            return None
        convert = _decimal
    elif type(field) is fields.List:
        inner = _field_check(field.inner)
        if inner is None:
            return None

        def convert(value):
            if type(value) is not list:
                raise _Defer
            return [inner(v) for v in value]
    else:
        convert = _CONVERTERS.get(type(field))
        if convert is None:
            return None
    validators = [_validator(v) for v in field.validators]
    if not validators:
        return convert

    def checked(value):
        value = convert(value)
        for check in validators:
            check(value)
        return value
    return checked


def item_check(schema):
    """A function checking a list of dicts against the item schema — the loaded list, or None when marshmallow must
    decide — or None when the schema has what this module does not know (hooks, other field kinds)."""
    if schema._hooks and any(schema._hooks.values()):
        return None
    plan = []
    for name, field in schema.fields.items():
        convert = None if field.dump_only else _field_check(field)
        if convert is None:
            return None
        plan.append((name, convert, field.required, field.allow_none, field.load_default))
    known = frozenset(name for name, *_rest in plan)

    def check(items: list):
        try:
            return [_load(item, plan, known) for item in items]
        except _Defer:
            return None

    return check


def _load(item, plan: list, known: frozenset) -> dict:
    """One item as marshmallow loads it, or _Defer."""
    if type(item) is not dict or not known.issuperset(item):
        raise _Defer
    out = {}
    for name, convert, required, allow_none, default in plan:
        value = item.get(name, missing)
        if value is missing:
            if required:
                raise _Defer
            if default is not missing:
                out[name] = default() if callable(default) else default
        elif value is None:
            if not allow_none:
                raise _Defer
            out[name] = None
        else:
            out[name] = convert(value)
    return out


class Items(fields.List):
    """A bulk request's items: a List of Nested(schema) to marshmallow and the OpenAPI document, loaded by the fast
    check when it accepts every item, else by marshmallow."""

    def __init__(self, schema, **kwargs):
        super().__init__(fields.Nested(schema), **kwargs)
        self._fast = item_check(schema())

    def _deserialize(self, value, attr, data, **kwargs):
        if type(value) is list and self._fast is not None:
            loaded = self._fast(value)
            if loaded is not None:
                return loaded
        return super()._deserialize(value, attr, data, **kwargs)
