"""Assessments: cycles (cycles.py), the rating workflow (workflow.py) and results (results.py)."""
