from django.urls import path

from messaging.log import attention_views, views

urlpatterns = [
    path("clients/<int:client_id>/", views.client_summary, name="client-detail"),
    path("clients/<int:client_id>/emails/log/", views.client_email_log, name="client-email-log"),
    path("clients/<int:client_id>/emails/send/", views.client_send, name="client-send"),
    path(
        "clients/<int:client_id>/emails/<uuid:email_id>/resend/",
        views.email_resend_page,
        name="email-resend",
    ),
    path("attention/", attention_views.needs_attention, name="needs-attention"),
    path("settings/smtp-test/", views.clinic_smtp_test, name="clinic-smtp-test"),
    path(
        "clients/<int:client_id>/emails/<uuid:email_id>/",
        views.client_email_as_sent,
        name="client-email-as-sent",
    ),
    path(
        "clients/<int:client_id>/emails/<uuid:email_id>/html/",
        views.client_email_html,
        name="client-email-html",
    ),
    path(
        "clients/<int:client_id>/emails/<uuid:email_id>/files/<int:attachment_id>/",
        views.client_email_attachment,
        name="client-email-attachment",
    ),
    path(
        "clients/<int:client_id>/forms/<int:form_request_id>/",
        views.client_form_answers,
        name="client-form-answers",
    ),
    path("emails/statuses/", views.email_status_legend, name="email-status-legend"),
]
