"""Reading cells and headers as Chinese bank staff write them (services/imports/values.py, headers.py, sources.py)."""
from datetime import date
from decimal import Decimal

import pytest

from competency.models.limits import digits_within, within
from competency.services.imports.headers import column_of, lookup_of
from competency.services.imports.sources import padded
from competency.services.imports.values import parse_date, parse_list, parse_number, parse_whole, twin, zero_twins
from competency.services.ksa.reader import int_or_none


@pytest.mark.parametrize("text", ["2024-03-01", "2024-3-1", "2024/3/1", "2024/03/01", "2024.03.01", "2024年3月1日",
                                  "2024年03月01日", "2024-03-01 00:00:00", "2024/3/1 9:30", "20240301", "45352", "45352.0",
                                  "２０２４－０３－０１"])
def test_dates_in_every_form_staff_write(text):
    assert parse_date(text) == date(2024, 3, 1)


@pytest.mark.parametrize("text", ["2024-02-30", "3/1/2024", "2024", "1234", "2024-03", "yesterday", "", "2024年3月"])
def test_what_is_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(("text", "value"), [("1234.5", "1234.5"), ("1,234.5", "1234.5"), ("¥1,234.50", "1234.50"),
                                             ("￥987654.32", "987654.32"), ("RMB 100", "100"), ("100元", "100"),
                                             ("１２３", "123"), ("1,234,567", "1234567"), (" 12 ", "12")])
def test_amounts(text, value):
    assert parse_number(text) == Decimal(value)


@pytest.mark.parametrize("text", ["1,2,3", "12万", "NaN", "inf", "", "1.2.3", "12,34"])
def test_what_is_not_an_amount(text):
    assert parse_number(text) is None


def test_whole_numbers_and_lists():
    assert (parse_whole("3.0"), parse_whole("3"), parse_whole("3.5"), parse_whole("x")) == (3, 3, None, None)
    # beyond any count, year or level (18 digits, a BIGINT's): not a whole number of ours, and never built as one
    assert (parse_whole("999999999999999999"), parse_whole("-999999999999999999")) == (10**18 - 1, -(10**18 - 1))
    assert parse_whole("1e18") is None and parse_whole("1e30") is None
    assert parse_whole("1e999999999") is None and parse_whole("1e-999999999") is None
    assert parse_whole("0e999999999") == 0 and parse_whole("000000000000000000000003") == 3
    assert digits_within("00000000000000000002", 1, 1_000_000) == 2 and digits_within("٣", 1, 5) == 3
    assert digits_within("1000001", 1, 1_000_000) is None and digits_within("9" * 5000, 1, 1_000_000) is None
    assert within(Decimal("0E+5"), 5, 2) and within(Decimal("-999.994"), 5, 2) and not within(Decimal("999.995"), 5, 2)
    assert not within(Decimal("1e999999999"), 5, 2) and not within(Decimal("-1e999999999"), 5, 2)
    assert [int_or_none(v) for v in ("4", 4.0, "1e30", "x")] == [4, 4, None, None] and int_or_none("1e999999999") is None
    assert parse_list("K1：3；S2：4、A1:2") == "K1:3;S2:4;A1:2"


@pytest.mark.parametrize(("value", "number_format", "shown"), [
    (123, "00000", "00123"), (123.0, "00000", "00123"), (123, '"0"0000', "00123"), (123, "\\00000", "00123"),
    (123, "@", "123"), (123456, "0000", "123456"), (123, "General", 123), (123.5, "00000", 123.5),
    (1234.5, "#,##0.00", 1234.5), ("00123", "@", "00123"), (None, "00000", None), (True, "00000", True)])
def test_a_number_comes_as_its_cell_shows_it(value, number_format, shown):
    assert padded(value, number_format) == shown


def test_leading_zero_twins():
    twins = zero_twins(["00123", "0101", "E001"])
    assert (twin("123", twins), twin("0123", twins), twin("00123", twins), twin("101", twins)) == ("00123", "00123", None, "0101")
    assert twin("E1", twins) is None and twin("", twins) is None


@pytest.mark.parametrize("cell", ["staff_no", " Staff_No ", "STAFF NO", "staff-no", "工号", "*工号", "工号(staff_no)", "工号（staff_no）",
                                  "工号 (staff_no)", "员工编号", "ｓｔａｆｆ＿ｎｏ"])
def test_header_names(cell):
    assert column_of(cell, lookup_of(["staff_no"], {"staff_no": ("工号", "员工编号")})) == "staff_no"


@pytest.mark.parametrize("cell", ["身份证号", "备注", "", None, "staff", "工号码"])
def test_other_header_names_are_not_columns(cell):
    assert column_of(cell, lookup_of(["staff_no"], {"staff_no": ("工号",)})) is None
