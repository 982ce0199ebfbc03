"""Dashboards and reports: charts for employees, supervisors and hr, exports, the printable development report."""
from flask import Blueprint

bp = Blueprint("analytics", __name__)

from . import views  # noqa: E402,F401
