from django.urls import path

from messaging.log import api

urlpatterns = [
    path("clients", api.ClientsAPI.as_view(), name="api-clients"),
    path("clients/<int:client_id>/emails", api.ClientEmailsAPI.as_view(), name="api-emails"),
]
