"""ksa: the competency model editor (hr, admin) and "my competency model" (everyone)."""
from flask import Blueprint

bp = Blueprint("ksa", __name__)

from . import views  # noqa: E402,F401
