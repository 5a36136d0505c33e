from django.conf import settings
from django.urls import include, path

from accord.api.api import api
from accord.api.middleware import PREFIX as API_PREFIX
from accord.core import views as core_views
from accord.partnership.admin import site as settings_site

handler403 = "accord.core.views.permission_denied"
handler404 = "accord.core.views.page_not_found"
handler500 = "accord.core.views.server_error"

urlpatterns = [
    path("", include("accord.core.urls")),
    path("escalations/", include("accord.escalations.urls")),
    path("audit/", include("accord.audit.urls")),
    path("reports/", include("accord.reports.urls")),
    path("business-unit/admin/", settings_site.urls),
    path("healthz", core_views.healthz, name="healthz"),
    path(API_PREFIX.lstrip("/") + "/", api.urls),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
