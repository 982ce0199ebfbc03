"""Findings of the security review not covered elsewhere: the default secret key, ids and page numbers no row can
have, and credits adjusted by an absurd amount."""
import pytest
from sqlalchemy import func, select

from competency import create_app
from competency.config import TestingConfig
from competency.extensions import db
from competency.models import CreditEntry
from competency.security import InsecureSecretKey

from . import factories
from .conftest import vars_of


def _production(**overrides) -> dict:
    return dict(vars_of(TestingConfig), TESTING=False, DEBUG=False, **overrides)


@pytest.mark.parametrize("key", [None, "", "dev-only-change-me", "changeme", "short-key"])
def test_the_app_refuses_to_start_without_a_strong_secret_key(key):
    with pytest.raises(InsecureSecretKey, match="SECRET_KEY is missing or weak"):
        create_app(_production(SECRET_KEY=key))


def test_a_strong_key_starts_and_testing_without_one_gets_a_random_key():
    assert create_app(_production(SECRET_KEY="k" * 16 + "0123456789abcdef0123")).secret_key
    first = create_app(dict(vars_of(TestingConfig), SECRET_KEY=None)).secret_key
    second = create_app(dict(vars_of(TestingConfig), SECRET_KEY=None)).secret_key
    assert first and second and first != second  # never a key anyone could know


@pytest.mark.parametrize("path", ["/employees/100000000000000000000000", "/assessments/100000000000000000000000",
                                  "/catalogue/99999999999999999999999999", "/employees?page=100000000000000000000000",
                                  "/employees?page=-1", "/employees?page=²", "/admin/users?page=0",
                                  pytest.param("/employees?page=" + "9" * 5000, id="page-of-5000-digits")])  # beyond int()
def test_ids_and_pages_beyond_any_row_are_404(seeded, client, login_as, path):
    login_as("admin")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("amount", ["1e400", "Infinity", "NaN", "1e30", "100000", "1e999999999"])
def test_credits_cannot_be_adjusted_by_an_amount_no_ledger_holds(app, client, login_as, amount):
    person = factories.employee()
    db.session.commit()
    login_as("hr")
    response = client.post(f"/employees/{person.id}/credits/adjust", data={"amount": amount, "reason": "x"},
                           follow_redirects=True, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and b"flash-error" in response.data
    assert db.session.scalar(select(func.count(CreditEntry.id))) == 0
    ok = client.post(f"/employees/{person.id}/credits/adjust", data={"amount": "2.5", "reason": "Conference talk"})
    assert ok.status_code == 302 and db.session.scalar(select(func.sum(CreditEntry.amount))) == 2.5
