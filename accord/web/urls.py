from django.contrib.auth import views as auth_views
from django.urls import path

from accord.api import views as api_views
from accord.notifications import views as notification_views

from . import mfa, settings_views, sign_in, views

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
    path("login/verify/", mfa.verify, name="mfa_verify"),
    path("account/two-step/", mfa.setup, name="mfa_setup"),
    path("account/api-tokens/", api_views.tokens, name="api_tokens"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path("account/api-tokens/<int:pk>/revoke/", api_views.revoke, name="api_token_revoke"),
    path("account/stay-signed-in/", views.stay_signed_in, name="stay_signed_in"),
    path("business-unit/people/import/", settings_views.people_import, name="people_import"),
    path("business-unit/escalations/import/", settings_views.log_import, name="log_import"),
    path(
        "business-unit/escalations/import/<int:pk>/remove/",
        settings_views.log_import_remove,
        name="log_import_remove",
    ),
    path("business-unit/agencies/", settings_views.agencies, name="agencies"),
    path("deployment/", settings_views.deployment_home, name="deployment_home"),
    path("deployment/partnerships/new/", settings_views.partnership_new, name="partnership_new"),
    path("business-unit/agencies/merge/", settings_views.agency_merge_page, name="agency_merge"),
    path("business-unit/statements/", settings_views.edit_statement, name="edit_statement"),
    path("accessibility/", settings_views.accessibility_statement, name="accessibility"),
    path("privacy/", settings_views.privacy_notice, name="privacy"),
    path(
        "account/set-password/<uidb64>/<token>/",
        settings_views.SetPasswordView.as_view(),
        name="set_password",
    ),
]
