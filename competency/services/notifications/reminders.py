"""Reminders and escalation: what `flask notify run` tells people about deadlines, before it sends the e-mails.

REMINDERS is the registry of reminder rules: each a function (today) -> how many notifications it created, that
finds what is due (services/due.py) and tells it through `notify_select` / `notify_many`, at most once per
recipient, object, kind and day. It is empty until the deadline rules are added here."""
from collections.abc import Callable
from datetime import date

REMINDERS: dict[str, Callable[[date], int]] = {}


def run(today: date) -> dict[str, int]:
    """Run every registered reminder rule for `today`: {rule: notifications created}."""
    return {name: rule(today) for name, rule in REMINDERS.items()}
