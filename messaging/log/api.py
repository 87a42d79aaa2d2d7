"""The JSON API for clinic staff: session (with CSRF) or token authentication (hashed, expiring
knox tokens), scoped to the user's clinic, throttled per address and per token."""

from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_scopes import scope
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.middleware import membership_of
from clinic.models import Client
from clinic.selectors import client_search
from messaging.log.as_sent import email_as_sent
from messaging.log.audit import email_log_viewed
from messaging.log.forms import ResendForm
from messaging.log.presentation import (
    engagement_words,
    event_not_counted,
    reason_shown,
    shown_status,
)
from messaging.log.selectors import client_email_log
from messaging.log.throttles import ClientAddressThrottle, TokenThrottle
from messaging.models import EmailKind, OutboundEmail
from messaging.sending.resend import NotResendable, email_resend
from messaging.sending.triggers import SEND_QUOTA_REACHED, direct_message_send
from messaging.status import EmailStatus
from suppression.selectors import suppressed_addresses

MAX_CLIENTS = 100
PAGE_DEFAULT, PAGE_MAX = 50, 200


class IsClinicStaff(BasePermission):
    message = "This API is for clinic staff."

    def has_permission(self, request, view) -> bool:
        view.membership = membership_of(request.user)
        return view.membership is not None


class ClinicAPIView(APIView):
    permission_classes = [IsClinicStaff]
    throttle_classes = [TokenThrottle]

    def initial(self, request, *args, **kwargs):
        """The address's throttle runs before authentication: DRF authenticates first and
        throttles after, so a wrong token would be answered 401 before any throttle counted it
        and tokens could be guessed without limit."""
        address = ClientAddressThrottle()
        if not address.allow_request(request, self):
            self.throttled(request, address.wait())
        super().initial(request, *args, **kwargs)

    def clinic_scope(self):
        return scope(clinic=self.membership.clinic)


def email_json(email: OutboundEmail) -> dict:
    return {
        "id": str(email.id),
        "kind": email.kind,
        "to": email.to_email,
        "subject": email.subject,
        "status": shown_status(email),
        "status_label": EmailStatus(shown_status(email)).label,
        "reason": reason_shown(email),
        "engagement_tracked": email.engagement_tracked,
        "engagement_note": engagement_words(email) or None,
        "esp_message_id": email.esp_message_id,
        "created_at": email.created_at.isoformat(),
        # A resend and the failed email it sends again name each other.
        "replaces": str(email.replaces_id) if email.replaces_id else None,
        "resent_as": [str(resend.id) for resend in email.resends.all()],
        "events": [
            {
                "type": event.event_type,
                "at": event.occurred_at.isoformat() if event.occurred_at else None,
                "detail": event_not_counted(email, event) or event.words,
            }
            for event in email.events.all()
        ],
    }


def log_after(log, email_id):
    """The part of a newest-first log that comes after the given email."""
    seen = log.filter(pk=email_id).values("created_at").first()
    if seen is None:
        raise serializers.ValidationError({"before": ["No email of this client has that id."]})
    return log.filter(
        Q(created_at__lt=seen["created_at"]) | Q(created_at=seen["created_at"], id__lt=email_id)
    )


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


class LogPage(serializers.Serializer):
    """A page of the log, newest first; `before` is the id of the last email already seen."""

    limit = serializers.IntegerField(min_value=1, max_value=PAGE_MAX, default=PAGE_DEFAULT)
    before = serializers.UUIDField(required=False)


class ClientEmailsAPI(ClinicAPIView):
    def get(self, request, client_id: int):
        with self.clinic_scope():
            client = get_object_or_404(Client.objects.all(), pk=client_id)
            page = LogPage(data=request.query_params)
            page.is_valid(raise_exception=True)
            log = client_email_log(client=client, days=settings.EMAIL_LOG_RETENTION_DAYS)
            if "before" in page.validated_data:
                log = log_after(log, page.validated_data["before"])
            limit = page.validated_data["limit"]
            emails = list(log[: limit + 1])
            email_log_viewed(actor=request.user, client=client)
        more = len(emails) > limit
        emails = emails[:limit]
        return Response(
            {
                "emails": [email_json(email) for email in emails],
                "next": (
                    f"{request.path}?{urlencode({'limit': limit, 'before': emails[-1].id})}"
                    if more
                    else None
                ),
            }
        )

    def post(self, request, client_id: int):
        with self.clinic_scope():
            client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
            incoming = DirectMessageIn(data=request.data)
            incoming.is_valid(raise_exception=True)
            email = direct_message_send(
                client=client,
                subject=incoming.validated_data["subject"],
                body=incoming.validated_data["body"],
                sent_by=request.user,
            )
            if email.refusal == SEND_QUOTA_REACHED:
                return Response(
                    {"error": email.refusal, "reason": reason_shown(email)},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                )
            if email.refusal:
                return Response(
                    {"error": email.refusal, "reason": reason_shown(email)},
                    status=status.HTTP_409_CONFLICT,
                )
            return Response(email_json(email), status=status.HTTP_202_ACCEPTED)


def email_as_sent_json(as_sent, client_id: int) -> dict:
    """One email as it was sent, its smart-form links masked; its files by name, type, size and
    the page's link to download them (the bytes stay out of the JSON)."""
    email = as_sent.email
    return {
        "id": str(email.id),
        "kind": email.kind,
        "to": email.to_email,
        "subject": email.subject,
        "from": email.from_header,
        "reply_to": email.reply_to_header,
        "sent_at": email.sent_at.isoformat() if email.sent_at else None,
        "body_text": as_sent.body_text,
        "body_html": as_sent.body_html,
        "replaces": str(email.replaces_id) if email.replaces_id else None,
        "attachments": [
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "url": reverse(
                    "client-email-attachment", args=[client_id, email.id, attachment.pk]
                ),
            }
            for attachment in as_sent.attachments
        ],
    }


class ClientEmailAPI(ClinicAPIView):
    def get(self, request, client_id: int, email_id):
        with self.clinic_scope():
            client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
            as_sent = email_as_sent(client=client, email_id=email_id)
            email_log_viewed(actor=request.user, client=client)
        return Response(email_as_sent_json(as_sent, client.pk))


class ResendIn(serializers.Serializer):
    """The client's corrected address, if it changed; checked as the client's own form checks it
    (a likely typo is refused unless `address_confirmed`)."""

    email = serializers.CharField(required=False, allow_blank=False, max_length=254)
    address_confirmed = serializers.BooleanField(required=False, default=False)


def _corrected_address(client: Client, data: dict) -> str | None:
    if "email" not in data:
        return None
    form = ResendForm(
        {"email": data["email"], "address_confirmed": data["address_confirmed"] or ""},
        instance=Client.objects.get(pk=client.pk),
    )
    if not form.is_valid():
        raise serializers.ValidationError({"email": form.errors["email"]})
    return form.cleaned_data["email"]


class ClientEmailResendAPI(ClinicAPIView):
    """POST: resend a failed email, to the corrected address if one is given, in one step:
    202 with the new email, 409 (429 for the daily quota) with the refusal's code and words and
    nothing changed, 400 for an email that did not fail, 404 for another clinic's email."""

    def post(self, request, client_id: int, email_id):
        with self.clinic_scope():
            client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
            email = get_object_or_404(OutboundEmail.objects.all(), pk=email_id, client=client)
            incoming = ResendIn(data=request.data)
            incoming.is_valid(raise_exception=True)
            address = _corrected_address(client, incoming.validated_data)
            try:
                outcome = email_resend(email=email, address=address, sent_by=request.user)
            except NotResendable as refusal:
                return Response(
                    {"error": "not_resendable", "reason": refusal.words},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            resent = outcome.email
            if outcome.refused:
                code = (
                    status.HTTP_429_TOO_MANY_REQUESTS
                    if resent.refusal == SEND_QUOTA_REACHED
                    else status.HTTP_409_CONFLICT
                )
                return Response(
                    {"error": resent.refusal, "reason": reason_shown(resent)}, status=code
                )
            body = email_json(resent)
        return Response(body, status=status.HTTP_202_ACCEPTED)
