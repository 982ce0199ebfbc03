"""Administration: login accounts and the audit trail."""
from flask import Blueprint

from ..audit_labels import action_label, actor_label

bp = Blueprint("admin", __name__, url_prefix="/admin")
# the audit log's events, on its page and on the administrator's dashboard
bp.add_app_template_filter(action_label, "audit_action")
bp.add_app_template_filter(actor_label, "audit_actor")

from . import views  # noqa: E402,F401
