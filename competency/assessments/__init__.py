"""Assessments: my assessments, the self and supervisor forms, results, my team, hr's reopen."""
from flask import Blueprint

bp = Blueprint("assessments", __name__)

from . import views  # noqa: E402,F401
