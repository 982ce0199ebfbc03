"""What the API's views share: the error statuses each operation documents, entity tags, import settings."""
from http import HTTPStatus

# The statuses every authenticated operation may answer besides its own.
ALWAYS = (401, 403, 429)
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "The `ETag` of the record as last read: the write is refused (412) if it changed since. "
                           "`*`: only if it exists. Left out: the write is not conditional."}
ETAG = {"ETag": {"description": "The record's entity tag, for `If-Match`.", "schema": {"type": "string"}}}


def responds(bp, *statuses: int):
    """Document the error statuses an operation answers (as problem+json), the ALWAYS ones included."""

    def decorator(view):
        for status in sorted({*ALWAYS, *statuses}, reverse=True):
            view = bp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorator


def bulk_result(result) -> dict:
    """An import's result as the API answers a bulk request."""
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
            "items": [{"row": line, "key": str(key), "action": action} for line, key, action in result.actions]}
