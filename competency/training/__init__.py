"""Training and credits: my training, catalogue, sessions, rosters, assignment, credits, mentoring, certifications."""
from flask import Blueprint

bp = Blueprint("training", __name__)

from . import views  # noqa: E402,F401
