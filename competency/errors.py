"""Domain exceptions; views turn them into form errors, flashes or HTTP statuses."""


class DomainError(Exception):
    """A rule of the domain was broken; the message is safe to show to the user."""


class NotFound(DomainError):
    """The object does not exist or the user may not know it exists."""


class Forbidden(DomainError):
    """The user may not do this."""


class AppendOnlyViolation(DomainError):
    """An attempt to edit or delete an append-only record."""


class ValidationFailed(DomainError):
    """Input was rejected; `errors` lists what is wrong."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))
