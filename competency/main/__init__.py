"""The home page: a dashboard that fits the user's roles."""
from flask import Blueprint

bp = Blueprint("main", __name__)

from . import views  # noqa: E402,F401
