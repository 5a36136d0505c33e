from django.urls import path

from . import views

app_name = "escalations"

urlpatterns = [
    path("", views.escalation_list_view, name="list"),
    path("export.csv", views.escalation_list_export, {"fmt": "csv"}, name="export_csv"),
    path("export.xlsx", views.escalation_list_export, {"fmt": "xlsx"}, name="export_xlsx"),
    path("raise/", views.start, name="start"),
    path("raise/danger/", views.danger, name="danger"),
    path("raise/emergency/", views.emergency, name="emergency"),
    path("raise/<int:draft>/check/", views.check, name="check"),
    path("raise/<int:draft>/delete/", views.draft_delete, name="draft_delete"),
    path("raise/<int:draft>/settled/", views.settled_with, name="settled_with"),
    path("raise/<int:draft>/settled/how/", views.settled_how, name="settled_how"),
    path("raise/people/", views.directory, name="directory"),
    path("raise/<int:draft>/<slug:step>/", views.step, name="step"),
    path("actions/<int:action>/", views.agreed_action, name="agreed_action"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/raised/", views.raised, name="raised"),
    path("<int:pk>/record/", views.record, name="record"),
    path("<int:pk>/discussions/", views.discuss, name="discuss"),
    path("<int:pk>/escalate/", views.escalate, name="escalate"),
    path("<int:pk>/pause/", views.pause, name="pause"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/raise-again/", views.raise_again, name="raise_again"),
    path("<int:pk>/pdg-actions/", views.pdg_action, name="pdg_action"),
    path("<int:pk>/appoint-facilitator/", views.appoint_facilitator, name="appoint_facilitator"),
    path("<int:pk>/end-facilitation/", views.end_facilitation, name="end_facilitation"),
    path("<int:pk>/parties/add/", views.add_party, name="add_party"),
    path("<int:pk>/parties/<int:agency>/remove/", views.remove_party, name="remove_party"),
    path("<int:pk>/actions/<int:action>/done/", views.complete_action, name="complete_action"),
    path("<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    path("<int:pk>/reassign/", views.reassign, name="reassign"),
    path("<int:pk>/resolve/", views.resolve, name="resolve"),
    path("<int:pk>/documents/", views.add_document, name="add_document"),
    path("<int:pk>/details/", views.add_details, name="add_details"),
    path("<int:pk>/view/", views.add_view, name="add_view"),
    path("<int:pk>/documents/<int:document>/", views.document_download, name="document"),
]
