"""schemathesis against the live app's OpenAPI document, with a token of each of two roles (hr, and a supervisor
with a team): no server error, no response that violates the schema, no undocumented status code or content type."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from competency.extensions import db
from competency.models import SCOPES, User
from competency.services import api_tokens
from competency.services.org import employee_by_staff_no
from competency.services.review.runs import run_review

from . import factories

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# Examples per operation and role: enough to reach every status an operation documents, within a minute or two.
EXAMPLES = 12


def _tokens() -> dict[str, str]:
    """A token with every scope for hr (a service account) and for the demo supervisor S0001."""
    hr = factories.user(roles=["hr"], with_employee=False, email="warehouse@bank.example")
    supervisor = db.session.scalar(db.select(User).where(User.employee_id == employee_by_staff_no("S0001").id))
    return {role: api_tokens.create_token(user, f"{role} contract", SCOPES)[1] for role, user in (("hr", hr), ("supervisor", supervisor))}


@pytest.mark.parametrize("role", ["hr", "supervisor"])
def test_the_api_keeps_its_contract(seeded, role):
    run_review(2025)  # recommendations to read
    secret = _tokens()[role]
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", seeded)
    headers = {"Authorization": f"Bearer {secret}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
