from django.urls import path

from messaging.log import api

urlpatterns = [
    path("clients", api.ClientsAPI.as_view(), name="api-clients"),
    path("clients/<int:client_id>/emails", api.ClientEmailsAPI.as_view(), name="api-emails"),
    path(
        "clients/<int:client_id>/emails/<uuid:email_id>",
        api.ClientEmailAPI.as_view(),
        name="api-email-as-sent",
    ),
    path(
        "clients/<int:client_id>/emails/<uuid:email_id>/resend",
        api.ClientEmailResendAPI.as_view(),
        name="api-email-resend",
    ),
]
