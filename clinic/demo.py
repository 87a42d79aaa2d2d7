"""The demo data that `make demo` loads; every function here is idempotent."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
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
    User,
)

DEMO_PASSWORD = "demo-pass-123"  # noqa: S105 (published in README.md for the demo)
# The demo support person's authenticator key (RFC 6238's own test key, base32
# GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ): published, so only a DEBUG demo may use it.
DEMO_AUTHENTICATOR_KEY = "3132333435363738393031323334353637383930"
DEMO_SUPPORT_EMAIL = "support@platform.test"

CLINICS = [
    {
        "slug": "riverside-physio",
        "name": "Riverside Physio",
        "time_zone": "Europe/London",
        "staff": [
            ("practitioner@riverside.test", "Priya", "Shah", Membership.Role.PRACTITIONER),
            ("admin@riverside.test", "Adam", "Rowe", Membership.Role.CLINIC_ADMIN),
        ],
        "clients": [
            ("Alex Carter", "click.alex@example.test"),
            ("Bea Bishop", "bounce.bea@example.test"),
            ("Cam Collins", "complaint.cam@example.test"),
            ("Dara Doyle", "defer.dara@example.test"),
            ("Olu Okafor", "open.olu@example.test"),
            ("Nina Novak", "nina.novak@example.test"),
            ("Ivo Ilic", "ivo@nowhere.invalid"),
        ],
    },
    {
        "slug": "harbour-osteopathy",
        "name": "Harbour Osteopathy",
        "time_zone": "Europe/Dublin",
        "staff": [
            ("practitioner@harbour.test", "Hana", "Moreau", Membership.Role.PRACTITIONER),
        ],
        "clients": [
            ("Hugo Hart", "click.hugo@example.test"),
            ("Bo Brennan", "bounce.bo@example.test"),
            ("Maeve Quinn", "maeve.quinn@example.test"),
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
    clinic, _ = Clinic.objects.update_or_create(
        slug=spec["slug"],
        defaults={"name": spec["name"], "time_zone": spec["time_zone"], "from_name": spec["name"]},
    )
    practitioner = None
    for email, first, last, role in spec["staff"]:
        user = seed_user(email, first, last)
        Membership.objects.update_or_create(user=user, defaults={"clinic": clinic, "role": role})
        practitioner = practitioner or user
    clients = [seed_client(clinic, name, email) for name, email in spec["clients"]]
    for offset, client in enumerate(clients[:3], start=1):
        seed_appointment(clinic, client, practitioner, days_ahead=offset)
    seed_invoice(clinic, clients[-1])
    SmartForm.objects.update_or_create(
        clinic=clinic, title="New client intake", defaults={"fields": INTAKE_FORM_FIELDS}
    )
    return clinic


def seed_client(clinic: Clinic, name: str, email: str) -> Client:
    client, _ = Client.objects.get_or_create(clinic=clinic, email=email, defaults={"name": name})
    return client


def seed_appointment(clinic: Clinic, client: Client, practitioner: User, *, days_ahead: int):
    if Appointment.objects.filter(client=client, status=Appointment.Status.BOOKED).exists():
        return
    day = timezone.localdate(timezone=clinic.tzinfo) + timedelta(days=days_ahead)
    start = datetime.combine(day, time(10, 0), tzinfo=clinic.tzinfo)
    Appointment.objects.create(
        clinic=clinic,
        client=client,
        practitioner=practitioner,
        start=start,
        end=start + timedelta(minutes=45),
    )


def seed_invoice(clinic: Clinic, client: Client) -> None:
    items = [
        {"description": "Initial assessment (60 min)", "quantity": 1, "unit_price": "75.00"},
        {"description": "Exercise programme", "quantity": 1, "unit_price": "20.00"},
    ]
    Invoice.objects.get_or_create(
        clinic=clinic,
        number=f"{clinic.slug[:3].upper()}-0001",
        defaults={
            "client": client,
            "issue_date": date.today(),
            "line_items": items,
            "total": Decimal("95.00"),
            "currency": "GBP",
        },
    )


def seed_demo() -> list[Clinic]:
    with scopes_disabled(), transaction.atomic():
        support = seed_user(DEMO_SUPPORT_EMAIL, "Sam", "Support", superuser=True)
        seed_authenticator(support)
        return [seed_clinic(spec) for spec in CLINICS]
