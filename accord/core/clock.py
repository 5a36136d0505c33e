"""Accord's clock. Services ask it for the time so that due dates can be tested on a
fixed date and demo history can be written as if it happened on its own dates.

The audit trail never uses it: audit timestamps always come from the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

from django.utils import timezone

_local = threading.local()


def now() -> dt.datetime:
    fixed = getattr(_local, "fixed", None)
    return fixed if fixed is not None else timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextlib.contextmanager
def set_to(moment: dt.datetime) -> Iterator[None]:
    """Run the enclosed code as if it were ``moment`` (this thread only)."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    previous = getattr(_local, "fixed", None)
    _local.fixed = moment
    try:
        yield
    finally:
        _local.fixed = previous
