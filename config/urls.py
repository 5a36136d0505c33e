from django.conf import settings
from django.urls import include, path

from accord.api.api import api
from accord.api.middleware import PREFIX as API_PREFIX
from accord.audit import urls as audit_urls
from accord.escalations import data_protection_views
from accord.web import views as web_views
from accord.web.admin import site as settings_site

handler403 = "accord.web.views.permission_denied"
handler404 = "accord.web.views.page_not_found"
handler500 = "accord.web.views.server_error"

# The auditor's pages: the trail's own, and the subject access page that gathers a child's escalations.
audit_pages = [
    *audit_urls.urlpatterns,
    path("subject-access/", data_protection_views.subject_access_request, name="subject_access"),
]

urlpatterns = [
    path("", include("accord.web.urls")),
    path("escalations/", include("accord.escalations.urls")),
    path("audit/", include((audit_pages, audit_urls.app_name))),
    path("reports/", include("accord.reports.urls")),
    path("business-unit/admin/", settings_site.urls),
    path("healthz", web_views.healthz, name="healthz"),
    path("readyz", web_views.readyz, name="readyz"),
    path(API_PREFIX.lstrip("/") + "/", api.urls),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
