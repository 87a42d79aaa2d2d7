"""The demo data that `make demo` loads; every function here is idempotent."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from clinic.models import (
    Appointment,
    Client,
    Clinic,
    Invoice,
    Membership,
    SmartForm,
    SmartFormRequest,
    User,
)

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 (published in README.md for the demo)
# The demo support person's authenticator key (RFC 6238's own test key, base32
# GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ): published, so only a DEBUG demo may use it.
DEMO_AUTHENTICATOR_KEY = "3132333435363738393031323334353637383930"
DEMO_SUPPORT_EMAIL = "support@platform.test"

# Sent for each seeded clinic once its people, clients and appointments are in place: messaging
# connects its demo email history here (clinic/ imports nothing of messaging).
demo_clinic_seeded = Signal()

CLINICS = [
    {
        "slug": "riverside-physio",
        "name": "Riverside Physio",
        "time_zone": "Europe/London",
        "postal_address": "14 Riverside Walk\nLondon SE1 9PP",
        "phone": "+44 20 7946 0321",
        "booking_changes": "Call us or reply to this email at least 24 hours before; "
        "later cancellations may be charged.",
        "staff": [
            ("practitioner@riverside.test", "Priya", "Shah", Membership.Role.PRACTITIONER),
            ("admin@riverside.test", "Adam", "Rowe", Membership.Role.CLINIC_ADMIN),
            ("reception@riverside.test", "Rosa", "Reyes", Membership.Role.RECEPTIONIST),
        ],
        "clients": [
            ("Alex Carter", "click.alex@example.test"),
            ("Bea Bishop", "bounce.bea@example.test"),
            ("Cam Collins", "complaint.cam@example.test"),
            ("Dara Doyle", "defer.dara@example.test"),
            ("Olu Okafor", "open.olu@example.test"),
            ("Nina Novak", "nina.novak@example.test"),
            ("Ivo Ilic", "ivo@nowhere.invalid"),
            ("Aoife O’Brien", "aoife.obrien@example.test"),
        ],
    },
    {
        "slug": "harbour-osteopathy",
        "name": "Harbour Osteopathy",
        "time_zone": "Europe/Dublin",
        "postal_address": "2 Harbour Road\nDún Laoghaire, Co. Dublin",
        "phone": "+353 1 555 0142",
        "booking_changes": "Phone the clinic at least a day before.",
        "staff": [
            ("practitioner@harbour.test", "Hana", "Moreau", Membership.Role.PRACTITIONER),
        ],
        "clients": [
            ("Hugo Hart", "click.hugo@example.test"),
            ("Bo Brennan", "bounce.bo@example.test"),
            ("Maeve Quinn", "maeve.quinn@example.test"),
            ("Łukasz Żółć", "lukasz.zolc@example.test"),
        ],
    },
]

INTAKE_FORM_FIELDS = [
    {
        "name": "reason",
        "label": "What brings you to the clinic?",
        "type": "textarea",
        "required": True,
    },
    {"name": "medications", "label": "Current medications", "type": "text", "required": False},
    {"name": "consent", "label": "I consent to treatment", "type": "checkbox", "required": True},
]


def seed_user(email: str, first: str, last: str, *, superuser: bool = False) -> User:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first,
            "last_name": last,
            "is_superuser": superuser,
            "is_staff": superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def seed_authenticator(user: User) -> TOTPDevice:
    """The demo support person's authenticator app, with the published key, so the demo's
    support admin can be opened (the code comes from `seed_demo`'s output)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user,
        name="demo authenticator app",
        defaults={"key": DEMO_AUTHENTICATOR_KEY, "confirmed": True},
    )
    return device


def seed_clinic(spec: dict) -> Clinic:
    contact = {field: spec[field] for field in ("postal_address", "phone", "booking_changes")}
    clinic, _ = Clinic.objects.update_or_create(
        slug=spec["slug"],
        defaults={
            "name": spec["name"],
            "time_zone": spec["time_zone"],
            "from_name": spec["name"],
            **contact,
        },
    )
    practitioner = None
    for email, first, last, role in spec["staff"]:
        user = seed_user(email, first, last)
        Membership.objects.update_or_create(user=user, defaults={"clinic": clinic, "role": role})
        practitioner = practitioner or user
    clients = [seed_client(clinic, name, email) for name, email in spec["clients"]]
    # Appointments over the coming days, two a day.
    for number, client in enumerate(clients):
        seed_appointment(
            clinic, client, practitioner, days_ahead=1 + number // 2, hour=10 + number % 2 * 4
        )
    for number, client in enumerate(clients, start=1):
        seed_invoice(clinic, client, number=number)
    intake, _ = SmartForm.objects.update_or_create(
        clinic=clinic, title="New client intake", defaults={"fields": INTAKE_FORM_FIELDS}
    )
    seed_answered_form(intake, clients[0])
    return clinic


def seed_client(clinic: Clinic, name: str, email: str) -> Client:
    client, _ = Client.objects.get_or_create(clinic=clinic, email=email, defaults={"name": name})
    return client


def seed_appointment(
    clinic: Clinic, client: Client, practitioner: User, *, days_ahead: int, hour: int = 10
):
    if Appointment.objects.filter(client=client, status=Appointment.Status.BOOKED).exists():
        return
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=days_ahead)
    start = datetime.combine(day, time(hour, 0), tzinfo=clinic.tzinfo)
    Appointment.objects.create(
        clinic=clinic,
        client=client,
        practitioner=practitioner,
        start=start,
        end=start + timedelta(minutes=45),
    )


def seed_invoice(clinic: Clinic, client: Client, *, number: int = 1) -> None:
    items = [
        {"description": "Initial assessment (60 min)", "quantity": 1, "unit_price": "75.00"},
        {"description": "Exercise programme", "quantity": 1, "unit_price": "20.00"},
    ]
    Invoice.objects.get_or_create(
        clinic=clinic,
        number=f"{clinic.slug[:3].upper()}-{number:04d}",
        defaults={
            "client": client,
            "issue_date": date.today(),
            "line_items": items,
            "total": Decimal("95.00"),
            "currency": "GBP",
        },
    )


def seed_answered_form(form: SmartForm, client: Client) -> None:
    """A smart form the client has already filled in, for staff to read on the client page."""
    SmartFormRequest.objects.get_or_create(
        clinic=form.clinic,
        form=form,
        client=client,
        state=SmartFormRequest.State.COMPLETED,
        defaults={
            "responses": {
                "reason": "Lower back pain after long drives.",
                "medications": "Ibuprofen when needed",
                "consent": True,
            },
            "completed_at": timezone.now() - timedelta(days=2),
        },
    )


def seed_demo() -> list[Clinic]:
    with scopes_disabled(), transaction.atomic():
        support = seed_user(DEMO_SUPPORT_EMAIL, "Sam", "Support", superuser=True)
        seed_authenticator(support)
        clinics = [seed_clinic(spec) for spec in CLINICS]
        for clinic in clinics:
            demo_clinic_seeded.send(sender=Clinic, clinic=clinic)
        return clinics
