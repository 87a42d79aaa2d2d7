from django.urls import path

from messaging.booking import api

urlpatterns = [
    path(
        "clients/<int:client_id>/appointments",
        api.ClientAppointmentsAPI.as_view(),
        name="api-client-appointments",
    ),
    path("appointments/<int:appointment_id>", api.AppointmentAPI.as_view(), name="api-appointment"),
]
