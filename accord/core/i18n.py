"""Translations: Accord's English catalogue without the empty ones chained behind it.

For British English, Python's gettext finds both the ``en_GB`` and the ``en`` catalogue of
each of Django's own apps, and Django chains every ``en`` one behind the merged catalogue.
They hold nothing but their header, yet every message that is not translated (in English,
most of them) is looked up in each in turn: about 10 microseconds a message (4 without
them), hundreds of messages on a busy page. ``prune_empty_fallbacks`` takes them out of the chain; since they
hold no messages, no translation changes.
"""

from __future__ import annotations

from gettext import GNUTranslations
from typing import Any

from django.conf import settings
from django.core.signals import request_started


def _is_empty(catalogue: Any) -> bool:
    messages = getattr(catalogue, "_catalog", None)
    # (Django's own merged catalogue is a TranslationCatalog, never a plain dict.)
    return isinstance(catalogue, GNUTranslations) and isinstance(messages, dict) and set(messages) <= {""}


def prune_empty_fallbacks() -> None:
    """Drop every catalogue that holds no messages from each language's fallback chain."""
    if not settings.USE_I18N:
        return
    from django.utils.translation import trans_real

    for code, _name in settings.LANGUAGES:
        catalogue = trans_real.translation(code)
        while catalogue is not None:
            following = getattr(catalogue, "_fallback", None)
            while following is not None and _is_empty(following):
                following = getattr(following, "_fallback", None)
            catalogue._fallback = following
            catalogue = following


def _prune_once(**kwargs: Any) -> None:
    request_started.disconnect(_prune_once, dispatch_uid="accord-prune-translations")
    prune_empty_fallbacks()


def prune_at_first_request() -> None:
    """The catalogues can only be loaded once every app is ready: prune them as the first
    request starts."""
    request_started.connect(_prune_once, dispatch_uid="accord-prune-translations")
