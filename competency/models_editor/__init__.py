"""The competency model editor (hr, admin) and "my competency model" (everyone)."""
from flask import Blueprint

bp = Blueprint("models", __name__)

from . import views  # noqa: E402,F401
