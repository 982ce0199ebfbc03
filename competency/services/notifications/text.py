"""The words of a notification, written when it is read (in the reader's language) or when its e-mail is queued
(in the recipient's): the kind's text filled with its params."""
from flask_babel import force_locale

from ...i18n import lang
from .kinds import Kind, kind_of


class _Values(dict):
    """The params as the text reads them: a name in both languages in the current one, nothing as a dash."""

    def __getitem__(self, key):
        value = super().get(key)
        if isinstance(value, dict):
            return value.get(lang()) or value.get("zh") or value.get("en") or "—"
        return "—" if value in (None, "") else value

    def __missing__(self, key):
        return "—"


def render_text(spec: Kind, params: dict) -> str:
    """The kind's text with these params, in the current language."""
    return str(spec.text) % _Values(params or {})


def text_of(notification) -> str:
    """A stored notification's text in the current language (an unknown kind — removed since — says so)."""
    try:
        spec = kind_of(notification.kind)
    except KeyError:
        return notification.kind
    return render_text(spec, notification.params)


def label_of(notification) -> str:
    try:
        return str(kind_of(notification.kind).label)
    except KeyError:
        return notification.kind


def in_each_language(write) -> dict:
    """{"zh": …, "en": …}: what write(locale) returns in each language (for params that hold words)."""
    out = {}
    for locale in ("zh", "en"):
        with force_locale(locale):
            out[locale] = str(write(locale))
    return out


def both(value) -> dict:
    """A translatable value (a label, a lazy string) in both languages, for params: {"zh": …, "en": …}."""
    return in_each_language(lambda _locale: value)
