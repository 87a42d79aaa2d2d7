"""Appointments through the API: booked, moved and cancelled as on the client page, each sending
the client the same email. Times are ISO 8601 with their offset: an API caller names the moment,
so no wall-clock reading is needed (a time without an offset is refused)."""

from datetime import timedelta

from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.response import Response

from clinic.models import Appointment, Client, User
from messaging.booking.forms import practitioners_of, start_passed_words
from messaging.log.api import ClinicAPIView
from messaging.log.presentation import reason_shown
from messaging.sending.triggers import (
    AppointmentNotBooked,
    appointment_book,
    appointment_cancel,
    appointment_change,
)


class AwareDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if isinstance(value, str) and not _names_its_offset(value):
            raise serializers.ValidationError(
                "Give the time with its offset (e.g. 2026-03-09T10:00:00-04:00 or ...Z)."
            )
        return moment


def _names_its_offset(value: str) -> bool:
    time_part = value.partition("T")[2]
    return time_part.endswith("Z") or "+" in time_part or "-" in time_part


class AppointmentIn(serializers.Serializer):
    start = AwareDateTimeField()
    duration_minutes = serializers.IntegerField(min_value=5, max_value=8 * 60, default=60)
    practitioner = serializers.PrimaryKeyRelatedField(queryset=User.objects.none())

    def __init__(self, *args, clinic, partial=False, **kwargs):
        super().__init__(*args, partial=partial, **kwargs)
        self.clinic = clinic
        self.fields["practitioner"].queryset = practitioners_of(clinic)

    def validate_start(self, start):
        """A booking or a move to a time that has passed is refused, naming the field."""
        passed = start_passed_words(start, self.clinic)
        if passed:
            raise serializers.ValidationError(passed)
        return start


def appointment_json(appointment: Appointment) -> dict:
    emails = appointment.emails.order_by("created_at")
    return {
        "id": appointment.pk,
        "client": appointment.client_id,
        "practitioner": appointment.practitioner_id,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "status": appointment.status,
        "emails": [
            {
                "id": str(email.id),
                "kind": email.kind,
                "status": email.status,
                "reason": reason_shown(email),
            }
            for email in emails
        ],
    }


class ClientAppointmentsAPI(ClinicAPIView):
    def post(self, request, client_id: int):
        with self.clinic_scope():
            client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
            incoming = AppointmentIn(data=request.data, clinic=client.clinic)
            incoming.is_valid(raise_exception=True)
            data = incoming.validated_data
            appointment = appointment_book(
                client=client,
                practitioner=data["practitioner"],
                start=data["start"],
                end=data["start"] + _minutes(data["duration_minutes"]),
            )
            return Response(appointment_json(appointment), status=status.HTTP_201_CREATED)


class AppointmentAPI(ClinicAPIView):
    """PATCH moves an appointment (start, duration_minutes, practitioner); DELETE cancels it."""

    def patch(self, request, appointment_id: int):
        with self.clinic_scope():
            appointment = get_object_or_404(
                Appointment.objects.select_related("clinic"), pk=appointment_id
            )
            incoming = AppointmentIn(data=request.data, clinic=appointment.clinic, partial=True)
            incoming.is_valid(raise_exception=True)
            data = incoming.validated_data
            start = data.get("start")
            end = None
            if "duration_minutes" in data:
                end = (start or appointment.start) + _minutes(data["duration_minutes"])
            try:
                appointment = appointment_change(
                    appointment=appointment,
                    start=start,
                    end=end,
                    practitioner=data.get("practitioner"),
                )
            except AppointmentNotBooked as refused:
                return Response({"error": "not_booked", "reason": str(refused)}, status=409)
            return Response(appointment_json(appointment))

    def delete(self, request, appointment_id: int):
        with self.clinic_scope():
            appointment = get_object_or_404(Appointment.objects.all(), pk=appointment_id)
            appointment = appointment_cancel(appointment=appointment)
            return Response(appointment_json(appointment))


def _minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
