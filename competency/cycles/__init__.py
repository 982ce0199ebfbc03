"""Cycle administration (hr): create, preview participants, open, progress, close, leniency."""
from flask import Blueprint

bp = Blueprint("cycles", __name__, url_prefix="/cycles")

from . import views  # noqa: E402,F401
