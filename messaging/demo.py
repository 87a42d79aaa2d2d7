"""The demo's email history: each seeded clinic opens with emails of every status in its clients'
logs. Each email is rendered and saved by the outbox (`email_prepare`), recorded as handed to the
ESP, and its ESP events are stored and applied by the tracking path's own `events_apply`, so a
bounce or a spam report suppresses the address, opts the client out and tells the practitioner
as a real one does. One email is left `sending`: the outbox sweeper sends it once the demo's
worker starts. Connected to `clinic.demo.demo_clinic_seeded` (clinic/ imports nothing of this)."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from clinic.models import Appointment, Client, Clinic, Invoice, SmartForm, SmartFormRequest
from clinic.smart_forms import smart_form_url
from messaging.models import EmailEvent, EmailKind, OutboundEmail
from messaging.sending.outbox import email_prepare
from messaging.status import EmailStatus
from messaging.tracking.apply import events_apply
from suppression.models import SuppressionReason


@dataclass(frozen=True)
class Event:
    """One ESP event as the drain stores it: anymail's type, what it means, its words."""

    event_type: str
    status: str
    minutes_after: int
    suppress: str = ""
    description: str = ""
    mta_response: str = ""
    click_url: str = ""


DELIVERED = Event("delivered", EmailStatus.DELIVERED, 1, mta_response="250 2.0.0 OK")
OPENED = Event("opened", EmailStatus.OPENED, 95)
CLICKED = Event("clicked", EmailStatus.CLICKED, 97, click_url="https://example.test/directions")
BOUNCED = Event(
    "bounced",
    EmailStatus.FAILED,
    2,
    suppress=SuppressionReason.HARD_BOUNCE,
    description="No such mailbox",
    mta_response="550 5.1.1 The email account that you tried to reach does not exist.",
)
DEFERRED = Event(
    "deferred",
    EmailStatus.DEFERRED,
    3,
    mta_response="421 4.7.0 Try again later, closing connection.",
)
COMPLAINED = Event(
    "complained", EmailStatus.SPAM_REPORT, 240, suppress=SuppressionReason.SPAM_COMPLAINT
)

# Which email each of the simulator's addresses holds (by the address's first word), how long
# ago it was sent, and what the ESP said of it. Together: every status of the log's legend.
STORIES = {
    "click": (EmailKind.DIRECT_MESSAGE, 26, [DELIVERED, OPENED, CLICKED]),
    "open": (EmailKind.INVOICE, 50, [DELIVERED, OPENED]),
    "bounce": (EmailKind.APPOINTMENT_CONFIRMATION, 30, [BOUNCED]),
    "complaint": (EmailKind.INVOICE, 75, [DELIVERED, COMPLAINED]),
    "defer": (EmailKind.SMART_FORM, 2, [DEFERRED]),
}
# Clients with none of the simulator's words: one delivered, one accepted with no news yet,
# one waiting for the worker.
PLAIN_STORIES = [
    (EmailKind.DIRECT_MESSAGE, 6, [DELIVERED]),
    (EmailKind.DIRECT_MESSAGE, 0, []),
    (EmailKind.DIRECT_MESSAGE, None, None),
]


def demo_emails_seed(sender=None, *, clinic: Clinic, **kwargs) -> int:
    """Seeds the clinic's email history once (a clinic with emails already keeps them); returns
    how many emails it saved."""
    if OutboundEmail.objects.filter(clinic=clinic).exists():
        return 0
    clients = list(Client.objects.filter(clinic=clinic).order_by("pk"))
    plain = iter(PLAIN_STORIES)
    saved = 0
    for client in clients:
        story = STORIES.get(client.email.split(".")[0])
        if story is None:
            story = next(plain, None)
        if story is None:
            continue
        kind, hours_ago, events = story
        email = _email_prepared(client, kind)
        if hours_ago is not None and not email.refusal:
            _handed_to_esp(email, hours_ago=hours_ago, events=events)
        saved += 1
    return saved


def _email_prepared(client: Client, kind: str) -> OutboundEmail:
    practitioner = _practitioner(client.clinic)
    if kind == EmailKind.DIRECT_MESSAGE:
        return email_prepare(
            client=client,
            kind=kind,
            sent_by=practitioner,
            context={
                "subject": "Your exercises for this week",
                "body": "Hello,\n\nAs promised, the three stretches: ten each, twice a day.\n",
            },
        )
    if kind == EmailKind.INVOICE:
        invoice = Invoice.objects.filter(client=client).first()
        return email_prepare(client=client, kind=kind, invoice=invoice, sent_by=practitioner)
    if kind == EmailKind.SMART_FORM:
        form = SmartForm.objects.filter(clinic=client.clinic).first()
        form_request = SmartFormRequest.objects.create(
            clinic=client.clinic, form=form, client=client
        )
        form_url = smart_form_url(form_request)
        return email_prepare(
            client=client,
            kind=kind,
            form_request=form_request,
            sent_by=practitioner,
            context={"form_url": form_url, "form_request": form_request},
        )
    appointment = Appointment.objects.filter(client=client).order_by("start").first()
    return email_prepare(client=client, kind=kind, appointment=appointment)


def _practitioner(clinic: Clinic):
    first = clinic.memberships.filter(role="practitioner").select_related("user").first()
    return first.user if first else None


def _handed_to_esp(email: OutboundEmail, *, hours_ago: int, events: list[Event]) -> None:
    """As delivery records an ESP's acceptance, then the ESP's events as the drain applies them."""
    sent_at = timezone.now() - timedelta(hours=hours_ago)
    message_id = f"<demo.{email.id.hex}@{email.esp or 'esp'}.demo>"
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.PROCESSED,
        esp_message_id=message_id,
        attempts=1,
        created_at=sent_at,
        sent_at=sent_at,
        status_changed_at=sent_at,
    )
    stored = [
        EmailEvent.objects.create(
            clinic=email.clinic,
            email=email,
            esp=email.esp,
            event_type=event.event_type,
            status=event.status,
            suppress=event.suppress,
            occurred_at=sent_at + timedelta(minutes=event.minutes_after),
            matched_at=sent_at + timedelta(minutes=event.minutes_after),
            description=event.description,
            mta_response=event.mta_response,
            click_url=event.click_url,
            recipient=email.to_email,
            message_id=message_id,
            email_id_hint=email.id,
            dedup_key=f"demo-{email.id.hex}-{number}",
            raw={"demo": True, "event": event.event_type},
        )
        for number, event in enumerate(events)
    ]
    events_apply(stored)
