from django.urls import path

from . import annual, learning, meetings, views

app_name = "reports"

urlpatterns = [
    path("pdg/", views.pdg_standing_item, name="pdg"),
    path("pdg.csv", views.pdg_standing_item_csv, name="pdg_csv"),
    path("pdg.pdf", views.pdg_standing_item_pdf, name="pdg_pdf"),
    path("iru/", views.iru_section, name="iru"),
    path("learning/", learning.learning, name="learning"),
    path("learning/<int:pk>/publish/", learning.learning_fit_to_publish, name="learning_publish"),
    path("meetings/actions/<int:pk>/", views.meeting_action, name="meeting_action"),
    path("meetings/", meetings.meetings, name="meetings"),
    path("meetings/new/", meetings.meeting_edit, name="meeting_new"),
    path("meetings/<int:pk>/", meetings.meeting_edit, name="meeting"),
    path("annual/", annual.annual_report, name="annual"),
    path("annual.pdf", annual.annual_report_pdf, name="annual_pdf"),
    path("annual.csv", annual.annual_report_csv, name="annual_csv"),
    path("annual.xlsx", annual.annual_report_xlsx, name="annual_xlsx"),
]
