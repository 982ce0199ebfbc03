"""The password policy, in every place a password is set (pages, `flask user create`): at least 10 characters,
not a common password, not containing the person's staff number, name or email name."""
import re
from functools import lru_cache

from flask_babel import lazy_gettext as _l

from ..errors import DomainError

MIN_LENGTH = 10
MAX_LENGTH = 256


class PasswordRejected(DomainError):
    """The password breaks the policy; `problems` names each rule broken."""

    def __init__(self, problems: list):
        self.problems = problems
        super().__init__(" ".join(str(p) for p in problems))


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    """The 30,000 most common passwords (zxcvbn's list, shipped with the app as a dependency), lower case."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def _personal_words(user) -> set[str]:
    """What a password must not contain: staff number, names (each part of three letters or more), email name."""
    words = set()
    employee = getattr(user, "employee", None)
    if employee is not None:
        words.add(employee.staff_no)
        words.add(employee.name_zh)
        words.update(part for part in re.split(r"[\s.\-_]+", employee.name_en or "") if len(part) >= 3)
    if getattr(user, "email", None):
        words.add(user.email.split("@")[0])
    return {w.lower() for w in words if w and len(w) >= 2}


def problems(password: str, user=None) -> list:
    """Each rule the password breaks (empty when it is acceptable)."""
    found = []
    text = password or ""
    if len(text) < MIN_LENGTH:
        found.append(_l("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(text) > MAX_LENGTH:
        found.append(_l("Use at most %(n)s characters.", n=MAX_LENGTH))
    lowered = text.lower()
    if lowered in _common() or re.sub(r"\d+$", "", lowered) in _common() or len(set(lowered)) <= 2:
        found.append(_l("This password is too common or too simple: choose another."))
    if user is not None and any(word in lowered for word in _personal_words(user)):
        found.append(_l("The password must not contain your staff number, name or email."))
    return found


def check(password: str, user=None) -> None:
    """PasswordRejected unless the password follows the policy."""
    found = problems(password, user)
    if found:
        raise PasswordRejected(found)
