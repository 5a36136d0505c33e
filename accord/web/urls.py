from django.contrib.auth import views as auth_views
from django.urls import path

from accord.api import views as api_views
from accord.notifications import views as notification_views

from . import (
    guest_pages,
    language,
    log_import_pages,
    mfa,
    people_pages,
    settings_pages,
    settings_views,
    sign_in,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sign-in/<int:pk>/", sign_in.StartView.as_view(), name="agency_sign_in"),
    path("sign-in/callback/", sign_in.CallbackView.as_view(), name="agency_sign_in_callback"),
    path("business-unit/sign-in/", settings_views.sign_in_providers, name="sign_in_providers"),
    path(
        "business-unit/sign-in/<int:pk>/", settings_views.sign_in_provider_edit, name="sign_in_provider_edit"
    ),
    path("partnership/", views.switch_partnership, name="switch_partnership"),
    path("language/<str:code>/", language.switch_language, name="switch_language"),
    path("login/verify/", mfa.verify, name="mfa_verify"),
    path("account/two-step/", mfa.setup, name="mfa_setup"),
    path("account/api-tokens/", api_views.tokens, name="api_tokens"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path("account/api-tokens/<int:pk>/revoke/", api_views.revoke, name="api_token_revoke"),
    path("business-unit/api-tokens/", api_views.partnership_tokens, name="partnership_api_tokens"),
    path(
        "business-unit/api-tokens/<int:pk>/revoke/",
        api_views.partnership_token_revoke,
        name="partnership_api_token_revoke",
    ),
    path("account/stay-signed-in/", views.stay_signed_in, name="stay_signed_in"),
    path("business-unit/people/import/", settings_views.people_import, name="people_import"),
    path("business-unit/escalations/import/", log_import_pages.log_import, name="log_import"),
    path(
        "business-unit/escalations/import/<int:pk>/",
        log_import_pages.log_import_done,
        name="log_import_done",
    ),
    path(
        "business-unit/escalations/import/<int:pk>/remove/",
        log_import_pages.log_import_remove,
        name="log_import_remove",
    ),
    path("business-unit/agencies/", settings_views.agencies, name="agencies"),
    path("business-unit/agencies/<int:pk>/", people_pages.agency_edit, name="agency_edit"),
    path("business-unit/settings/", settings_pages.settings_home, name="settings_home"),
    path(
        "business-unit/settings/partnership/",
        settings_pages.settings_partnership,
        name="settings_partnership",
    ),
    path("business-unit/settings/protocol/", settings_pages.settings_protocol, name="settings_protocol"),
    path(
        "business-unit/settings/protocol/download/",
        settings_pages.settings_protocol_download,
        name="settings_protocol_download",
    ),
    path(
        "business-unit/settings/protocol/versions/",
        settings_pages.settings_protocol_versions,
        name="settings_protocol_versions",
    ),
    path(
        "business-unit/settings/protocol/versions/<int:number>/",
        settings_pages.settings_protocol_version,
        name="settings_protocol_version",
    ),
    path(
        "business-unit/settings/protocol/upload/",
        settings_pages.settings_protocol_upload,
        name="settings_protocol_upload",
    ),
    path(
        "business-unit/settings/protocol/formal-body/",
        settings_pages.settings_formal_body,
        name="settings_formal_body",
    ),
    path(
        "business-unit/settings/protocol/stages/new/",
        settings_pages.settings_stage,
        name="settings_stage_new",
    ),
    path(
        "business-unit/settings/protocol/stages/<int:number>/",
        settings_pages.settings_stage,
        name="settings_stage",
    ),
    path(
        "business-unit/settings/protocol/stages/<int:number>/remove/",
        settings_pages.settings_stage_remove,
        name="settings_stage_remove",
    ),
    path(
        "business-unit/settings/protocol/priorities/new/",
        settings_pages.settings_priority,
        name="settings_priority_new",
    ),
    path(
        "business-unit/settings/protocol/priorities/<slug:code>/",
        settings_pages.settings_priority,
        name="settings_priority",
    ),
    path(
        "business-unit/settings/protocol/priorities/<slug:code>/remove/",
        settings_pages.settings_priority_remove,
        name="settings_priority_remove",
    ),
    path(
        "business-unit/settings/protocol/budgets/new/",
        settings_pages.settings_budget,
        name="settings_budget_new",
    ),
    path(
        "business-unit/settings/protocol/budgets/<int:index>/",
        settings_pages.settings_budget,
        name="settings_budget",
    ),
    path(
        "business-unit/settings/protocol/budgets/<int:index>/remove/",
        settings_pages.settings_budget_remove,
        name="settings_budget_remove",
    ),
    path("business-unit/people/", people_pages.people, name="people"),
    path("business-unit/people/new/", people_pages.person_edit, name="person_new"),
    path("business-unit/people/<int:pk>/", people_pages.person_edit, name="person_edit"),
    path("business-unit/people/<int:pk>/invitation/", people_pages.person_invite, name="person_invite"),
    path("business-unit/taxonomies/", people_pages.taxonomies, name="taxonomies"),
    path("business-unit/taxonomies/<str:taxonomy>/new/", people_pages.term_edit, name="term_new"),
    path("business-unit/taxonomies/<str:taxonomy>/<int:pk>/", people_pages.term_edit, name="term_edit"),
    path("deployment/", settings_views.deployment_home, name="deployment_home"),
    path("deployment/partnerships/new/", settings_views.partnership_new, name="partnership_new"),
    path(
        "deployment/agencies/share/", settings_views.deployment_share_agency, name="deployment_share_agency"
    ),
    path(
        "deployment/sign-in/new/", settings_views.deployment_sign_in_provider, name="deployment_sign_in_new"
    ),
    path(
        "deployment/sign-in/<int:pk>/",
        settings_views.deployment_sign_in_provider,
        name="deployment_sign_in_provider",
    ),
    path("business-unit/agencies/merge/", settings_views.agency_merge_page, name="agency_merge"),
    path("business-unit/statements/", settings_views.edit_statement, name="edit_statement"),
    path("accessibility/", settings_views.accessibility_statement, name="accessibility"),
    path("privacy/", settings_views.privacy_notice, name="privacy"),
    path(
        "account/set-password/<uidb64>/<token>/",
        settings_views.SetPasswordView.as_view(),
        name="set_password",
    ),
    # Taking part without an account: the guest's pages, the parties' and the business unit's.
    path("guest/", guest_pages.home, name="guest_home"),
    path("guest/discussion/", guest_pages.discuss, name="guest_discuss"),
    path("guest/documents/", guest_pages.add_document, name="guest_add_document"),
    path("guest/documents/<int:document>/", guest_pages.document, name="guest_document"),
    path("guest/escalate/", guest_pages.escalate, name="guest_escalate"),
    path("guest/pause/", guest_pages.pause, name="guest_pause"),
    path("guest/resume/", guest_pages.resume, name="guest_resume"),
    path("guest/resolve/", guest_pages.resolve, name="guest_resolve"),
    path("guest/sign-out/", guest_pages.sign_out, name="guest_sign_out"),
    path("guest/<str:token>/", guest_pages.link, name="guest_link"),
    path("guest/<str:token>/code/", guest_pages.code, name="guest_code"),
    path("escalations/<int:pk>/guests/new/", guest_pages.name_guest, name="guest_name"),
    path("escalations/<int:pk>/guests/leader/", guest_pages.name_leader_guest, name="guest_name_leader"),
    path("escalations/<int:pk>/guests/<int:guest>/remove/", guest_pages.remove_guest, name="guest_remove"),
    path(
        "business-unit/agencies/<int:pk>/email-domains/",
        guest_pages.email_domains,
        name="agency_email_domains",
    ),
    path("business-unit/guests/", guest_pages.guest_list, name="guests"),
    path("business-unit/guests/<int:pk>/end/", guest_pages.guest_end, name="guest_end"),
    path("business-unit/guests/<int:pk>/person/", guest_pages.guest_make_person, name="guest_make_person"),
]
