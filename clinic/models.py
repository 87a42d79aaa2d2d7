import secrets
import zoneinfo
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_scopes import ScopedManager, scope

from clinic.encryption import EncryptedTextField
from clinic.time_zones import clock_time


def normalize_email_address(address: str) -> str:
    return address.strip().lower()


def validate_client_email(address: str) -> None:
    from clinic.addresses import validate_email_syntax

    validate_email_syntax(address)


def validate_time_zone(name: str) -> None:
    if name not in zoneinfo.available_timezones():
        raise ValidationError(f"{name!r} is not a time zone (for example Europe/London).")


class NormalizedEmailField(models.EmailField):
    """An address stored trimmed and lower-cased, and looked up the same way."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return normalize_email_address(value) if value else value

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value:
            value = normalize_email_address(value)
            setattr(model_instance, self.attname, value)
        return value


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=normalize_email_address(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractUser):
    """A person who logs in: clinic staff, or platform support (superusers)."""

    username = None
    email = NormalizedEmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class Clinic(models.Model):
    """The tenant."""

    class Connection(models.TextChoices):
        PLATFORM_ESP = "platform_esp", "The platform's email service (delivery tracked)"
        OWN_SMTP = "own_smtp", "The clinic's own SMTP server (not tracked)"

    class SmtpSecurity(models.TextChoices):
        STARTTLS = "starttls", "STARTTLS (usually port 587 or 25)"
        TLS = "tls", "TLS from the start (usually port 465)"

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    from_name = models.CharField(max_length=200, blank=True)
    reply_to_email = models.EmailField(
        "replies go to",
        blank=True,
        db_default="",
        help_text="Empty: the first clinic admin's address.",
    )
    postal_address = models.TextField(
        "clinic address", blank=True, db_default="", help_text="Printed on appointment emails."
    )
    phone = models.CharField("clinic phone", max_length=40, blank=True, db_default="")
    booking_changes = models.TextField(
        "how to cancel or reschedule",
        blank=True,
        db_default="",
        help_text="Printed on appointment emails, e.g. “Call us at least 24 hours before.”",
    )
    reminder_lead_hours = models.PositiveSmallIntegerField(
        "reminder lead time (hours)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
    )
    sending_connection = models.CharField(
        max_length=20, choices=Connection.choices, default=Connection.PLATFORM_ESP
    )
    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_username = models.CharField(max_length=255, blank=True)
    smtp_password = EncryptedTextField(blank=True, help_text="Encrypted at rest.")
    smtp_security = models.CharField(
        "SMTP encryption",
        max_length=10,
        choices=SmtpSecurity.choices,
        default=SmtpSecurity.STARTTLS,
        db_default=SmtpSecurity.STARTTLS,
        help_text="Mail is only ever sent to the clinic's server encrypted.",
    )
    smtp_from_email = models.EmailField(blank=True)
    track_engagement = models.BooleanField(
        "track opens and clicks",
        default=True,
        db_default=True,
        help_text="Off: no tracking pixel and no rewritten links; the email log says so.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def reminder_lead_time(self) -> timedelta:
        return timedelta(hours=self.reminder_lead_hours)

    @property
    def uses_own_smtp(self) -> bool:
        return self.sending_connection == self.Connection.OWN_SMTP

    def first_admin_address(self) -> str:
        """The address of the clinic's longest-standing active clinic admin, or "" if it has
        none: where replies go until the clinic names an address of its own."""
        with scope(clinic=self):
            return (
                Membership.objects.filter(role=Membership.Role.CLINIC_ADMIN, user__is_active=True)
                .order_by("pk")
                .values_list("user__email", flat=True)
                .first()
                or ""
            )

    def reply_to_address(self) -> str:
        """Where a client's reply to any of the clinic's emails goes: the address the clinic
        set, else its first clinic admin's; "" when it has neither (replies then go to the
        From address)."""
        return self.reply_to_email or self.first_admin_address()


class Membership(models.Model):
    class Role(models.TextChoices):
        PRACTITIONER = "practitioner", "Practitioner"
        RECEPTIONIST = "receptionist", "Receptionist"
        CLINIC_ADMIN = "clinic_admin", "Clinic admin"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    objects = ScopedManager(clinic="clinic")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.clinic})"

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == self.Role.CLINIC_ADMIN


class Client(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(max_length=200)
    email = NormalizedEmailField(blank=True, validators=[validate_client_email])
    appointment_comms = models.BooleanField("receives appointment communications", default=True)
    appointment_comms_changed_at = models.DateTimeField(null=True, blank=True)
    appointment_comms_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["clinic", "name"]),
            models.Index(fields=["email"], name="client_email_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="appointments")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="appointments")
    practitioner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["status", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appt_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        # Admin titles and links name it: on the clinic's clock, the zone named.
        return f"{self.client} at {clock_time(self.start, self.clinic.tzinfo)}"


class Invoice(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="invoices")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(max_length=40)
    issue_date = models.DateField()
    line_items = models.JSONField(default=list, help_text="[{description, quantity, unit_price}]")
    total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="GBP")

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["-issue_date", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "number"], name="invoice_number_per_clinic")
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"


class SmartForm(models.Model):
    """A clinic's form template: a title and a list of fields to fill in."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="smart_forms")
    title = models.CharField(max_length=200)
    fields = models.JSONField(default=list, help_text="[{name, label, type, required}]")

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


class SmartFormRequest(models.Model):
    """One smart form sent to one client, answered through an unguessable link."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the client"
        COMPLETED = "completed", "Completed"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="form_requests")
    form = models.ForeignKey(SmartForm, on_delete=models.CASCADE, related_name="requests")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="form_requests")
    token = models.CharField(max_length=64, unique=True, default=new_form_token, editable=False)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    responses = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.form} for {self.client}"


class AuditEntry(models.Model):
    """Append-only: who looked at or changed what. Read by support in admin."""

    class Action(models.TextChoices):
        VIEWED_EMAIL_LOG = "viewed_email_log", "Viewed a client's email log"
        REACTIVATED_ADDRESS = "reactivated_address", "Reactivated a suppressed address"
        DECIDED_REMOVAL_REQUEST = "decided_removal_request", "Decided a removal request"
        CHANGED_CLINIC_SETTINGS = "changed_clinic_settings", "Changed clinic settings"
        ISSUED_API_TOKEN = "issued_api_token", "Issued an API token"
        REVOKED_API_TOKEN = "revoked_api_token", "Revoked an API token"
        RELEASED_MAIL_HOLD = "released_mail_hold", "Released a clinic's mail hold"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(
        max_length=254, blank=True, help_text="Kept when the account is deleted."
    )
    # Kept when the clinic is deleted: an audit trail outlives what it audits.
    clinic = models.ForeignKey(
        Clinic, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    clinic_name = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    target = models.CharField(max_length=300, blank=True, help_text="What was acted on.")
    detail = models.JSONField(default=dict, blank=True)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        zone = self.clinic.tzinfo if self.clinic_id else "UTC"
        return f"{self.actor_email} {self.get_action_display()} at {clock_time(self.at, zone)}"
