from django.urls import path, re_path

from clinic import api_token_pages, smart_forms, views

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.client_list, name="client-list"),
    path("clients/<int:client_id>/edit/", views.client_edit, name="client-edit"),
    path("settings/", views.clinic_settings, name="clinic-settings"),
    path("settings/api-tokens/", api_token_pages.api_tokens, name="api-tokens"),
    path(
        "settings/api-tokens/<str:token_key>/revoke/",
        api_token_pages.api_token_revoke_view,
        name="api-token-revoke",
    ),
    path("forms/<str:token>/", smart_forms.smart_form_fill, name="smart-form-fill"),
    # `/forms/` and a link with more after its token: the not-valid page, never a technical 404.
    # (`/forms/<token>` without its slash is still sent on to the form by APPEND_SLASH.)
    re_path(r"^forms/(?:.*/.*)?$", smart_forms.smart_form_link_broken),
]
