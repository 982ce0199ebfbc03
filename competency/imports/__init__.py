"""The HR upload page for org unit and employee imports."""
from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")

from . import views  # noqa: E402,F401
