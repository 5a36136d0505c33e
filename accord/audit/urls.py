from django.urls import path

from . import views

app_name = "audit"

# The subject access page (``audit:subject_access``) is the escalations app's: config/urls.py
# adds it to these.
urlpatterns = [
    path("", views.search, name="search"),
    path("export.csv", views.export, name="export"),
]
