"""The benchmark scripts run end to end on a small synthetic bank (so they cannot rot between measurements)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(("script", "expected"), [
    ("open_cycle.py", "median time to open a cycle for 400 participants"),
    ("review.py", "median review time for 400 employees"),
    ("heatmap.py", "RESULT name=heatmap_data db=sqlite employees=400"),
    ("analytics.py", "RESULT name=team_analytics db=sqlite employees=400"),
    ("exports.py", "RESULT name=export_gaps_xlsx db=sqlite employees=400"),
    ("imports.py", "RESULT name=import_ratings db=sqlite employees=400"),
    ("people_search.py", "RESULT name=people_search db=sqlite employees=400"),
    ("notify.py", "RESULT name=notify_run db=sqlite employees=400"),
])
def test_benchmark_script_runs(script, expected):
    result = subprocess.run([sys.executable, str(BENCH / script), "--employees", "400", "--repeat", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert expected in result.stdout


def test_api_benchmark_runs_a_fixed_number_of_statements_per_batch():
    """Every batch of the API's bulk feeds, the last and smaller one included, runs the same number of statements."""
    result = subprocess.run([sys.executable, str(BENCH / "api.py"), "--employees", "400", "--batch", "150"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("api_employees_upsert", "api_employees_sync", "api_completions"):
        assert f"RESULT name={name} db=sqlite employees=400 " in result.stdout
    assert len(re.findall(r"statements per batch: \[\d+\],", result.stdout)) == 3, result.stdout


def test_load_benchmark_runs():
    """gunicorn under a few clients for a moment: every scenario answers without an error, and says so."""
    result = subprocess.run([sys.executable, str(BENCH / "load.py"), "--employees", "400", "--repeat", "1", "--workers", "2",
                             "--clients", "4", "--seconds", "2", "--accounts", "40"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for scenario in ("form_get", "draft_save", "dashboard"):
        assert f"RESULT name=load_{scenario} db=sqlite employees=400 " in result.stdout
        assert re.search(rf"RESULT name=load_{scenario} .* rps=[1-9]\d* .* errors=0$", result.stdout, re.MULTILINE)
