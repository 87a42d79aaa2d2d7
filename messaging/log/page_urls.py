from django.urls import path

from messaging.log import attention_views, views

urlpatterns = [
    path("clients/<int:client_id>/", views.client_summary, name="client-detail"),
    path("clients/<int:client_id>/emails/log/", views.client_email_log, name="client-email-log"),
    path("clients/<int:client_id>/emails/send/", views.client_send, name="client-send"),
    path("attention/", attention_views.needs_attention, name="needs-attention"),
    path("settings/smtp-test/", views.clinic_smtp_test, name="clinic-smtp-test"),
]
