"""The JSON API of CONTRACT.md: session (with CSRF) or token authentication of clinic staff,
scoped to the user's clinic."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django_scopes import scope
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.middleware import membership_of
from clinic.models import Client
from clinic.selectors import client_search
from messaging.models import EmailKind, OutboundEmail
from messaging.selectors import client_email_log
from messaging.services import direct_message_send
from messaging.status import EmailStatus
from suppression.selectors import suppressed_addresses
from suppression.services import mail_permission

MAX_CLIENTS = 100
MAX_EMAILS = 500


class IsClinicStaff(BasePermission):
    message = "This API is for clinic staff."

    def has_permission(self, request, view) -> bool:
        view.membership = membership_of(request.user)
        return view.membership is not None


class ClinicAPIView(APIView):
    permission_classes = [IsClinicStaff]

    def clinic_scope(self):
        return scope(clinic=self.membership.clinic)


def email_json(email: OutboundEmail) -> dict:
    return {
        "id": str(email.id),
        "kind": email.kind,
        "to": email.to_email,
        "subject": email.subject,
        "status": email.status,
        "status_label": email.get_status_display(),
        "reason": email.reason,
        "esp_message_id": email.esp_message_id,
        "created_at": email.created_at.isoformat(),
        "events": [
            {
                "type": event.event_type,
                "at": event.occurred_at.isoformat() if event.occurred_at else None,
                "detail": event.words,
            }
            for event in email.events.all()
        ],
    }


class ClientsAPI(ClinicAPIView):
    def get(self, request):
        with self.clinic_scope():
            clients = list(client_search(query=request.query_params.get("q", ""))[:MAX_CLIENTS])
            suppressed = suppressed_addresses(
                clinic=self.membership.clinic, addresses=[c.email for c in clients]
            )
        return Response(
            {
                "clients": [
                    {
                        "id": c.pk,
                        "name": c.name,
                        "email": c.email,
                        "appointment_comms": c.appointment_comms,
                        "suppressed": c.email in suppressed,
                    }
                    for c in clients
                ]
            }
        )


class DirectMessageIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[EmailKind.DIRECT_MESSAGE])
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10000)


class ClientEmailsAPI(ClinicAPIView):
    def get(self, request, client_id: int):
        with self.clinic_scope():
            client = get_object_or_404(Client.objects.all(), pk=client_id)
            days = settings.EMAIL_LOG_RETENTION_DAYS
            emails = list(client_email_log(client=client, days=days)[:MAX_EMAILS])
            return Response({"emails": [email_json(email) for email in emails]})

    def post(self, request, client_id: int):
        with self.clinic_scope():
            client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
            incoming = DirectMessageIn(data=request.data)
            incoming.is_valid(raise_exception=True)
            permission = mail_permission(clinic=client.clinic, address=client.email)
            email = direct_message_send(
                client=client,
                subject=incoming.validated_data["subject"],
                body=incoming.validated_data["body"],
                sent_by=request.user,
            )
            if email.status == EmailStatus.FAILED:
                error = "no_address" if not client.email else "suppressed"
                return Response(
                    {"error": error, "reason": permission.reason}, status=status.HTTP_409_CONFLICT
                )
            return Response(email_json(email), status=status.HTTP_202_ACCEPTED)
