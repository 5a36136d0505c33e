import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.main")
application = get_wsgi_application()

# With DEBUG off, keys derived from SECRET_KEY or too short stop the server here, at start-up;
# so does a GOV.UK Notify key without the templates its notices need.
from accord.core.checks import refuse_to_serve_with_weak_keys  # noqa: E402 - once Django is set up
from accord.notifications.checks import refuse_to_start_without_notify_templates  # noqa: E402

refuse_to_serve_with_weak_keys()
refuse_to_start_without_notify_templates()

# Everything loaded so far lives as long as the process: move it out of the garbage
# collector's reach, so a full collection walks only what requests create (it otherwise
# paused a request for tens of milliseconds now and then), and, with gunicorn's
# --preload, so forked workers share these pages instead of copying them.
gc.freeze()
