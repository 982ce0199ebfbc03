"""Domain exceptions; views turn them into form errors or flashes, and an uncaught one becomes a translated
4xx page (handlers.py): NotFound 404, Forbidden 403, Conflict 409, any other DomainError 400."""
from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule of the domain was broken; the message is safe to show to the user."""


class FieldError(DomainError):
    """A rule broken by one input: views show the message at that form field (`field`, the field's name)."""

    def __init__(self, field: str, message):
        self.field = field
        super().__init__(message)


class NotFound(DomainError):
    """The object does not exist or the user may not know it exists."""


class Forbidden(DomainError):
    """The user may see this but not do it."""


class Conflict(DomainError):
    """Someone else changed the same thing first (a stale form, a double submit)."""

    def __init__(self, message=None):
        super().__init__(message or _l("Someone changed this since you opened it. Nothing was saved: reload the "
                                       "page to see the latest version."))


class AppendOnlyViolation(DomainError):
    """An attempt to edit or delete an append-only record."""


class ValidationFailed(DomainError):
    """Input was rejected; `errors` lists what is wrong."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))
