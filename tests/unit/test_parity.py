"""The combined level is computed twice: in Python for one result page (`scoring.combined_levels`) and in SQL
for aggregates over many people (`assessments.results.combined_levels`). On any ratings and rater weights
the two agree."""
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from competency.extensions import db
from competency.models import Assessment, AssessmentStatus, Cycle, CycleStatus, Grade, Rater, Rating
from competency.services import scoring
from competency.services.assessments.results import combined_levels

from .. import factories

CODES = ("K1", "K2", "S1", "A1")
levels = st.integers(min_value=1, max_value=5)


@pytest.fixture
def rated(app):
    """A published four-competency model and a person to assess (committed; each example rolls back its own rows)."""
    version = factories.model_version(publish=True, **{"competencies": factories.model_data(codes=CODES)["competencies"]})
    person = factories.employee()
    db.session.commit()
    return version, person


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(self_weight=st.integers(min_value=0, max_value=99),  # cycles refuse a supervisor weight of 0
       supervisor=st.fixed_dictionaries({code: levels for code in CODES}),
       own=st.fixed_dictionaries({code: st.none() | levels for code in CODES}))
def test_sql_and_python_combined_levels_agree(rated, self_weight, supervisor, own):
    version, person = rated
    ids = {c.code: c.id for c in version.competencies}
    cycle = Cycle(code="PARITY", name_zh="周期", name_en="Cycle", version_id=version.id, period_start=date(2026, 1, 1),
                  period_end=date(2026, 12, 31), self_deadline=date(2026, 12, 1), supervisor_deadline=date(2026, 12, 15),
                  self_weight=self_weight, supervisor_weight=100 - self_weight, status=CycleStatus.CLOSED)
    assessment = Assessment(cycle=cycle, employee_id=person.id, version_id=version.id, grade=Grade.JUNIOR,
                            org_unit_id=person.org_unit_id, status=AssessmentStatus.COMPLETED)
    assessment.ratings = ([Rating(competency_id=ids[c], rater=Rater.SUPERVISOR, level=v) for c, v in supervisor.items()]
                          + [Rating(competency_id=ids[c], rater=Rater.SELF, level=v) for c, v in own.items()])
    db.session.add(assessment)
    db.session.flush()
    try:
        sql = combined_levels(cycle_id=cycle.id)
        in_sql = dict(db.session.execute(select(sql.c.competency_code, sql.c.combined)).all())
        in_python = scoring.combined_levels(
            {Rater.SELF.value: {c: v for c, v in own.items() if v is not None}, Rater.SUPERVISOR.value: supervisor},
            cycle.rater_weights)
        assert in_sql.keys() == in_python.keys() == set(CODES)
        for code in CODES:
            assert in_sql[code] == pytest.approx(in_python[code], abs=1e-9)
    finally:
        db.session.rollback()
