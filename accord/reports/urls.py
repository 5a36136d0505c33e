from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("pdg/", views.pdg_standing_item, name="pdg"),
    path("pdg.csv", views.pdg_standing_item_csv, name="pdg_csv"),
]
