"""The annual grade review (hr), grade standards and settings (hr), probation (supervisor), my grade (everyone)."""
from flask import Blueprint

bp = Blueprint("review", __name__)

from . import views  # noqa: E402,F401
