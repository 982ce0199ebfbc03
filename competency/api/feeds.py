"""Feeds from the bank's other systems: annual sales from core banking, training completions from the e-learning
platform — the sales and training imports on JSON items, all or nothing."""
from ..services.imports.sales import import_sales_rows
from ..services.imports.tabular import items_as_rows
from ..services.imports.training import import_training_rows
from . import blueprint, schemas
from .auth import current_user, requires, source
from .common import bulk_result, responds

bp = blueprint("feeds", "Annual sales (`sales:write`) and training completions (`training:write`).")


@bp.route("/sales/bulk", methods=["POST"])
@requires("sales:write", permission="imports.run")
@bp.arguments(schemas.SalesBulk)
@bp.response(200, schemas.BulkResult)
@responds(bp, 400, 413, 415)
def bulk_sales(body):
    """Upsert up to 5,000 annual sales figures by staff number and year, all or nothing."""
    return bulk_result(import_sales_rows(items_as_rows(body["items"]), source(), actor=current_user()))


@bp.route("/training/completions", methods=["POST"])
@requires("training:write", permission="imports.run")
@bp.arguments(schemas.CompletionBulk)
@bp.response(200, schemas.BulkResult)
@responds(bp, 400, 413, 415)
def post_completions(body):
    """Record up to 5,000 completed trainings, all or nothing, idempotent by `external_id`: an id recorded before is
    `unchanged` (a pass earns its credits once, however often it is sent)."""
    return bulk_result(import_training_rows(items_as_rows(body["items"]), source(), actor=current_user()))
