"""The one settings entry point: base settings, hardened when DEBUG is off."""

from .base import *
from .base import DEBUG

if not DEBUG:
    from .production import *
