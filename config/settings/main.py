"""The one settings entry point (manage.py and WSGI): base settings, hardened when DEBUG is off."""

from .base import *
from .base import DEBUG

if not DEBUG:
    from .production import *
