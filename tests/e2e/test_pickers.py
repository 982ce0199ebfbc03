"""The person picker in a real browser: a trainer assigns a course to someone found by typing part of their name.

The list the browser shows under the field is the input's <datalist>, filled by static/js/pickers.js from
/people/search as one types. The browser draws that list itself, outside the page, so a test cannot click it:
picking an option is done as the browser does it, by putting the option's value in the field.
"""
import re

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.e2e


def test_trainer_assigns_a_course_to_a_person_found_by_name(live_server, page_for):
    page = page_for("en-US")
    login(page, live_server, "T0001")
    page.goto(f"{live_server}/assign")
    course = next(o for o in page.locator("select[name=course] option").all() if o.inner_text().startswith("SAL-101"))
    page.select_option("select[name=course]", value=course.get_attribute("value"))
    page.select_option("select[name=mode]", "one")
    field = page.get_by_label("Employee")
    expect(field).to_have_attribute("aria-describedby", "staff_no-hint")
    expect(page.locator("#staff_no-hint")).to_have_text("Staff number or name")

    field.press_sequentially("文静", delay=80)  # part of 蔡文静's given name, typed as a person types
    options = page.locator("#staff_no-people option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("value", "E0023 蔡文静")
    expect(options.first).to_have_attribute("label", re.compile(r"\S"))  # the org unit, beside the name
    expect(page.locator("#staff_no-status")).to_have_text("1 found: choose from the list.")
    field.fill(options.first.get_attribute("value"))  # picking the option puts its value in the field

    page.click("button[name=preview]")
    expect(page.locator(".callout strong")).to_have_text("1 person matches.")
    expect(page.locator(".callout")).to_contain_text("E0023")
    page.locator("button[name=submit]").click()
    expect(page.locator("main section.card h2")).to_have_text("Assigned to 1 person.")
    page.click("a:has-text('See the roster')")
    expect(page.locator("main table tbody tr", has_text="E0023")).to_contain_text("Assigned")
    assert page.errors_seen == [], "the browser reported errors:\n" + "\n".join(page.errors_seen)


def test_the_picker_list_follows_the_typing_and_a_staff_number_works_alone(live_server, page_for):
    page = page_for("zh-CN")
    login(page, live_server, "S0007")  # a supervisor: the list holds their team only
    page.goto(f"{live_server}/assign")
    page.select_option("select[name=mode]", "one")
    field = page.locator("input[name=staff_no]")
    field.press_sequentially("E00", delay=60)
    options = page.locator("#staff_no-people option")
    expect(options).to_have_count(5)  # S0007's five reports: E0028 … E0032
    assert sorted(o.get_attribute("value").split()[0] for o in options.all()) == [f"E00{n}" for n in range(28, 33)]
    field.press_sequentially("29", delay=60)
    expect(options).to_have_count(1)
    field.fill("E0017")  # someone else's report: not offered, and refused
    page.click("button[name=preview]")
    expect(page.locator("#staff_no-error")).to_contain_text("E0017")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert page.errors_seen == [], "the browser reported errors:\n" + "\n".join(page.errors_seen)
