"""Long runs a background job follows: the review run and the ratings import report their progress (never going back,
ending at done == total), and their bulk paths keep what the slower ones stored: scores, decisions, what a re-run
changed."""
from datetime import date

import pytest
from sqlalchemy import select

from competency.extensions import db
from competency.models import Assessment, Decision, Employee, EmployeeStatus
from competency.services import imports
from competency.services.assessments.results import result_of
from competency.services.review import decisions, runs, standards

from . import factories
from .test_review import STANDARDS_YAML, _person, _recommendation, _scored


@pytest.fixture
def setup(app):
    factories.position("CM_CORP")
    standards.import_standards(STANDARDS_YAML)
    return app


class Reports(list):
    """A progress callback that keeps every (done, total) it is told."""

    def __call__(self, done: int, total: int) -> None:
        self.append((done, total))

    def check(self) -> int:
        """Assert one fixed total, done never going back nor past it, ending at the total; return the total."""
        assert self, "no progress was reported"
        totals = {total for _done, total in self}
        assert len(totals) == 1
        total = totals.pop()
        done = [d for d, _total in self]
        assert done == sorted(done) and 0 <= done[0] and done[-1] == total
        return total


def test_a_review_run_reports_its_progress_over_the_people_in_scope(setup, monkeypatch):
    monkeypatch.setattr(runs, "BATCH", 2)
    for n in range(5):
        _scored(_person(f"P{n}", sales=900), 70.0)
    reports = Reports()
    run = runs.run_review(2025, progress=reports)
    assert reports.check() == 5
    assert len(reports) == 4  # the start, then each batch of two
    assert len(db.session.scalars(select(runs.Recommendation).where(runs.Recommendation.run_id == run.id)).all()) == 5


def test_a_rerun_leaves_unchanged_rows_and_lists_who_left(setup):
    stays, leaves = _person("STAY", sales=900), _person("LEAVE", sales=900)
    _scored(stays, 70.0)
    _scored(leaves, 70.0)
    run = runs.run_review(2025)
    decisions.decide(run, [_recommendation(run, stays).id, _recommendation(run, leaves).id], Decision.APPROVED)
    first = _recommendation(run, stays)
    first_id, decided_at = first.id, first.decided_at
    db.session.get(Employee, leaves.id).status = EmployeeStatus.LEFT
    db.session.commit()
    run = runs.run_review(2025)
    kept = _recommendation(run, stays)
    assert (kept.id, kept.decision, kept.decided_at) == (first_id, Decision.APPROVED, decided_at)  # left as it was
    assert _recommendation(run, leaves) is None
    assert run.rerun_changes == [{"staff_no": "LEAVE", "decision": "approved", "after": None,
                                  "before": {"grade": "junior", "action": "keep"}}]


RATINGS = "staff_no,competency_code,rater,level,comment\n" + "".join(
    f"R{n},{code},{rater},{1 + (n * 3 + i * 2 + j) % 5},\n"
    for n in range(7) for i, code in enumerate(("K1", "S1")) for j, rater in enumerate(("self", "supervisor")))


def _people(n=7):
    factories.model_version(publish=True)
    for i in range(n):
        _person(f"R{i}")


def test_the_ratings_import_reports_checking_then_writing(setup, monkeypatch):
    monkeypatch.setattr(imports.ratings, "BATCH", 3)
    _people()
    preview, real = Reports(), Reports()
    options = {"cycle_code": "OLD", "start": date(2024, 1, 1), "end": date(2024, 12, 31)}
    imports.import_ratings(RATINGS.encode(), "r.csv", dry_run=True, progress=preview, **options)
    imports.import_ratings(RATINGS.encode(), "r.csv", progress=real, **options)
    assert preview.check() == 28  # the file's rows, checked
    assert real.check() == 56     # checked, then written
    assert any(28 < done < 56 for done, _total in real)  # the batches of people written are reported


def test_imported_scores_are_the_results_scores(setup):
    _people()
    imports.import_ratings(RATINGS.encode(), "r.csv", cycle_code="OLD", start=date(2024, 1, 1), end=date(2024, 12, 31))
    assessments = db.session.scalars(select(Assessment)).all()
    assert len(assessments) == 7 and len({a.overall_score for a in assessments}) > 1
    assert all(a.overall_score == result_of(a).overall for a in assessments)  # exactly: the same arithmetic
