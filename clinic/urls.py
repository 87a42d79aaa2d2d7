from django.urls import path

from clinic import smart_forms, views

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", views.client_list, name="client-list"),
    path("clients/<int:client_id>/edit/", views.client_edit, name="client-edit"),
    path("settings/", views.clinic_settings, name="clinic-settings"),
    path("forms/<str:token>/", smart_forms.smart_form_fill, name="smart-form-fill"),
]
