import datetime
from datetime import timedelta

import factory
from django.utils import timezone

from clinic.models import (
    Appointment,
    AuditEntry,
    Client,
    Clinic,
    Invoice,
    Membership,
    SmartForm,
    SmartFormRequest,
    User,
)
from messaging.models import (
    DeliveredAddress,
    EmailCountChange,
    EmailDayCount,
    EmailEvent,
    EmailKind,
    GuardWarning,
    MailHold,
    OutboundEmail,
)
from notifications.models import Notification
from suppression.models import ReactivationAsk, Suppression, SuppressionCause, SuppressionReason

PASSWORD = "a-strong-test-password"

# The world the clinics are in: three time zones whose clocks change on different days (New York
# in March and November, London in March and October, Sydney in April and October), and names
# as people write them, with typographic quotes, dashes and letters beyond ASCII.
TIME_ZONES = ("America/New_York", "Europe/London", "Australia/Sydney")
CLINIC_NAMES = (
    "O’Brien & Ní Bhriain Physiotherapy",
    "Zoë’s Sports-Massage – Ångström House",
    "Клиника «Здоровая спина»",
    "Φυσικοθεραπεία «Κίνηση»",
    "Łódź Osteo — Gabinet Żółć",
)
# (name, address): quotes and dashes in local parts, a local part beyond ASCII (SMTPUTF8) and
# internationalised domain names under the IANA's test names.
PEOPLE = (
    ("Aoife O’Brien", "aoife.o'brien+{n}@example.test"),
    ("Zoë Ångström-Nuñez", "zoë.ångström-nuñez.{n}@example.test"),
    ("Дмитрий Иванов", "dmitry.ivanov.{n}@пример.испытание"),
    ("Σοφία Παπαδοπούλου", "sofia.papadopoulou.{n}@παράδειγμα.δοκιμή"),
    ("Łukasz Żółć", "lukasz.zolc-{n}@example.test"),
)


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"{CLINIC_NAMES[n % len(CLINIC_NAMES)]} {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    time_zone = factory.Iterator(TIME_ZONES)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff.{n}@clinic.test")
    first_name = factory.Sequence(lambda n: PEOPLE[n % len(PEOPLE)][0].split()[0])
    last_name = factory.Sequence(lambda n: PEOPLE[n % len(PEOPLE)][0].split()[-1])
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = Membership.Role.PRACTITIONER


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: PEOPLE[n % len(PEOPLE)][0])
    email = factory.Sequence(lambda n: PEOPLE[n % len(PEOPLE)][1].format(n=n))


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    client = factory.SubFactory(ClientFactory)
    clinic = factory.SelfAttribute("client.clinic")
    practitioner = factory.SubFactory(UserFactory)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=45))


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    client = factory.SubFactory(ClientFactory)
    clinic = factory.SelfAttribute("client.clinic")
    number = factory.Sequence(lambda n: f"INV-{n:04d}")
    issue_date = factory.LazyFunction(lambda: timezone.localdate())
    line_items = [{"description": "Assessment", "quantity": 1, "unit_price": "60.00"}]
    total = "60.00"


class SmartFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmartForm

    clinic = factory.SubFactory(ClinicFactory)
    title = "Intake"
    fields = [
        {"name": "reason", "label": "Reason for visit", "type": "text", "required": True},
        {"name": "consent", "label": "I consent", "type": "checkbox", "required": True},
    ]


class SmartFormRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmartFormRequest

    client = factory.SubFactory(ClientFactory)
    clinic = factory.SelfAttribute("client.clinic")
    form = factory.SubFactory(SmartFormFactory, clinic=factory.SelfAttribute("..clinic"))


class OutboundEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundEmail

    client = factory.SubFactory(ClientFactory)
    clinic = factory.SelfAttribute("client.clinic")
    kind = EmailKind.DIRECT_MESSAGE
    to_email = factory.SelfAttribute("client.email")
    subject = "Your exercises"
    body_text = "Three sets of ten, twice a day."
    esp = "mailgun"


class EmailEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailEvent

    email = factory.SubFactory(OutboundEmailFactory)
    clinic = factory.SelfAttribute("email.clinic")
    esp = factory.SelfAttribute("email.esp")
    event_type = "delivered"
    status = "delivered"
    recipient = factory.SelfAttribute("email.to_email")
    dedup_key = factory.Sequence(lambda n: f"event-{n}")


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    clinic = factory.SubFactory(ClinicFactory)
    recipient = factory.SubFactory(UserFactory)
    text = "Direct message to a client failed."


class AuditEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEntry

    clinic = factory.SubFactory(ClinicFactory)
    actor = factory.SubFactory(UserFactory)
    actor_email = factory.LazyAttribute(lambda entry: entry.actor.email)
    action = AuditEntry.Action.VIEWED_EMAIL_LOG
    target = "Client 1"


class SuppressionCauseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuppressionCause

    clinic = factory.SubFactory(ClinicFactory)
    suppression = factory.LazyAttribute(
        lambda cause: Suppression.objects.create(
            address=f"cause-{Suppression.objects.count()}@example.test",
            stream="mailgun",
            reason=SuppressionReason.HARD_BOUNCE,
        )
    )
    reason = SuppressionReason.HARD_BOUNCE
    diagnostic = "550 5.1.1 no such user"


class ReactivationAskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReactivationAsk

    clinic = factory.SubFactory(ClinicFactory)
    suppression = factory.LazyAttribute(
        lambda ask: Suppression.objects.create(
            address=f"ask-{Suppression.objects.count()}@example.test",
            stream="mailgun",
            reason=SuppressionReason.HARD_BOUNCE,
        )
    )
    client_name = "Aoife O’Brien"
    note = "The client confirmed the address by phone."


class EmailDayCountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailDayCount

    clinic = factory.SubFactory(ClinicFactory)
    day = datetime.date(2026, 11, 2)
    status = "delivered"
    handed_over = True
    emails = 3


class EmailCountChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailCountChange

    clinic = factory.SubFactory(ClinicFactory)
    day = datetime.date(2026, 11, 2)
    status = "delivered"
    handed_over = True
    emails = 1


class DeliveredAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveredAddress

    clinic = factory.SubFactory(ClinicFactory)
    address = factory.Sequence(lambda n: f"delivered-{n}@example.test")
    first_delivered_at = factory.LazyFunction(timezone.now)


class MailHoldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MailHold

    clinic = factory.SubFactory(ClinicFactory)
    why = "Hard bounces reached 9.0% of 300 emails in the last 7 days (hold at 8%)."
    sends = 300
    bounces = 27
    complaints = 0


class GuardWarningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuardWarning

    clinic = factory.SubFactory(ClinicFactory)
    measure = GuardWarning.Measure.BOUNCES
    level = GuardWarning.Level.WARNING
    rate = 4.5
    sends = 400
    events = 18
