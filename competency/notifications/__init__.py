"""The inbox (the bell in the top bar, one's notifications, reading them), one's e-mail choices, and the failed
e-mails administrators retry."""
from flask import Blueprint

bp = Blueprint("notifications", __name__)

from . import views  # noqa: E402,F401
