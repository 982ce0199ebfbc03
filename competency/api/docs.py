"""The API's documentation page: Swagger UI, vendored (static/vendor/swagger-ui/), rendering /api/v1/openapi.json."""
from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)


@bp.route("/api/v1/docs")
def docs():
    """The API reference, with how to authenticate; readable without signing in, like the OpenAPI document."""
    return render_template("api/docs.html")
