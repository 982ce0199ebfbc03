"""appeals: an employee acknowledges or appeals a result or a grade decision; hr resolves appeals."""
from flask import Blueprint

bp = Blueprint("appeals", __name__)

from . import views  # noqa: E402,F401
