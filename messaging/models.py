import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from clinic.models import Appointment, Client, Clinic, Invoice, SmartFormRequest
from messaging.event_words import event_words
from messaging.status import EmailStatus, status_rank_expression
from suppression.models import Refusal
from suppression.streams import SMTP


class EmailKind(models.TextChoices):
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", "Appointment confirmation"
    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder"
    APPOINTMENT_CANCELLATION = "appointment_cancellation", "Appointment cancellation"
    APPOINTMENT_CHANGE = "appointment_change", "Appointment change"
    INVOICE = "invoice", "Invoice"
    SMART_FORM = "smart_form", "Smart form"
    DIRECT_MESSAGE = "direct_message", "Direct message"


APPOINTMENT_KINDS = frozenset(
    {
        EmailKind.APPOINTMENT_CONFIRMATION,
        EmailKind.APPOINTMENT_REMINDER,
        EmailKind.APPOINTMENT_CANCELLATION,
        EmailKind.APPOINTMENT_CHANGE,
    }
)


class OutboundEmail(models.Model):
    """One email to one client: saved before it is sent, and the record of what must be sent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="emails")
    # Indexed by email_client_newest, which leads with it.
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="emails", db_index=False
    )
    kind = models.CharField(max_length=32, choices=EmailKind.choices)
    to_email = models.EmailField("recipient address as sent", max_length=254)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for mail the system sends by itself.",
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    appointment_start = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The appointment's start when this email was written: a moved appointment is "
        "reminded again, for its new time.",
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    form_request = models.ForeignKey(
        SmartFormRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    status = models.CharField(
        max_length=20, choices=EmailStatus.choices, default=EmailStatus.SENDING
    )
    # Derived by the database from `status`, so the two cannot disagree: the tracking drain's
    # conditional UPDATE compares it, so that an email only ever moves up the ranks. (Django
    # cannot alter a generated column: a change to STATUS_RANK drops and re-adds it.)
    status_rank = models.GeneratedField(
        expression=status_rank_expression(),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    reason = models.TextField(blank=True, help_text="Why it failed, in words.")
    failure_cause = models.CharField(
        max_length=20,
        blank=True,
        db_default="",
        help_text="temporary: the ESP stopped trying; sender: a problem of ours, not the address",
    )
    refusal = models.CharField(
        max_length=20,
        choices=Refusal.choices,
        blank=True,
        help_text="Why it was not sent at all, when it was refused before sending.",
    )
    engagement_tracked = models.BooleanField(
        "opens and clicks tracked",
        default=True,
        db_default=True,
        help_text="Off when the clinic had open and click tracking switched off, or sent "
        "through its own server.",
    )
    esp = models.CharField("sent through", max_length=20, blank=True)
    esp_message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="An attempt to send it is under way until then."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resends",
        help_text="The failed email this one sends again, after the address was corrected.",
    )
    from_header = models.CharField("From, as sent", max_length=400, blank=True, db_default="")
    reply_to_header = models.CharField(
        "Reply-To, as sent", max_length=400, blank=True, db_default=""
    )
    status_changed_at = models.DateTimeField(auto_now_add=True)
    consequences_at = models.DateTimeField(
        null=True, blank=True, help_text="When its permanent failure suppressed the address."
    )
    flagged_stuck_at = models.DateTimeField(
        null=True, blank=True, help_text="When support was told it stayed `processed` too long."
    )
    reconcile_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the ESP's own event log is next asked about it, while it has no outcome "
        "(empty: RECONCILE_AFTER_SECONDS after it was sent).",
    )
    reconciled_at = models.DateTimeField(
        null=True, blank=True, help_text="When the ESP's own event log was last asked about it."
    )

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["client", "-created_at", "-id"], name="email_client_newest"),
            models.Index(fields=["esp_message_id"], name="email_esp_message_id"),
            # A clinic's sends of the last 24 hours, for its daily quota.
            models.Index(fields=["clinic", "created_at"], name="email_clinic_created"),
            models.Index(
                fields=["created_at"],
                name="email_outbox_pending",
                condition=models.Q(status="sending"),
            ),
            models.Index(
                fields=["sent_at"],
                name="email_awaiting_events",
                condition=models.Q(status="processed", flagged_stuck_at__isnull=True),
            ),
            models.Index(
                fields=["sent_at"],
                name="email_awaiting_outcome",
                condition=models.Q(status__in=["processed", "deferred"]),
            ),
            models.Index(fields=["created_at"], name="email_created"),
            # The held emails of clinics no hold stands for any more: read each minute.
            models.Index(fields=["clinic"], name="email_held", condition=models.Q(status="held")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=EmailStatus.values), name="email_status_valid"
            ),
            # One reminder per appointment time; a resend of a failed one is its own email.
            models.UniqueConstraint(
                fields=["appointment", "appointment_start"],
                condition=models.Q(kind="appointment_reminder", replaces__isnull=True),
                name="one_reminder_per_appointment_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_email}"

    @property
    def tracked(self) -> bool:
        return self.esp != SMTP


class EmailEvent(models.Model):
    """One ESP event, kept as the ESP sent it; unique per ESP event so a repeat changes nothing."""

    clinic = models.ForeignKey(
        Clinic, null=True, blank=True, on_delete=models.CASCADE, related_name="email_events"
    )
    # Indexed by event_email_time, which leads with it.
    email = models.ForeignKey(
        OutboundEmail,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    esp = models.CharField(max_length=20)
    event_type = models.CharField(max_length=20, help_text="anymail's normalised event type")
    status = models.CharField(
        max_length=20, choices=EmailStatus.choices, blank=True, help_text="What it means for us"
    )
    suppress = models.CharField(
        max_length=20, blank=True, help_text="Suppression reason when it is a permanent failure"
    )
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    matched_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(max_length=40, blank=True)
    description = models.TextField(blank=True)
    mta_response = models.TextField(blank=True)
    click_url = models.URLField(max_length=2000, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    email_id_hint = models.UUIDField(null=True, blank=True, help_text="email_id from metadata")
    dedup_key = models.CharField(max_length=128)
    cause = models.CharField(
        max_length=20,
        blank=True,
        db_default="",
        help_text="temporary or sender: a failure not of the address",
    )
    opt_out = models.BooleanField(db_default=False, help_text="The recipient unsubscribed")
    raw = models.JSONField(default=dict)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["email", "occurred_at"], name="event_email_time"),
            models.Index(
                fields=["received_at"],
                name="event_unmatched",
                condition=models.Q(email__isnull=True),
            ),
            models.Index(fields=["received_at"], name="event_received"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["esp", "dedup_key"], name="one_row_per_esp_event")
        ]

    def __str__(self) -> str:
        return f"{self.esp} {self.event_type} at {self.occurred_at}"

    words = property(event_words)


class ReceivedBatch(models.Model):
    """One webhook post's events, verified and parsed, waiting for a worker to store and apply
    them. Not clinic-owned: the clinic is known only once each event is matched to its email."""

    esp = models.CharField(max_length=20)
    received_at = models.DateTimeField(default=timezone.now)
    event_count = models.PositiveIntegerField()
    # The EventRows as jsonb: parsed as the post is kept, so that the drain, the slower side,
    # reads it without parsing (docs/benchmarks.md).
    payload = models.JSONField()
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why a worker could not apply it")

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "received batches"

    def __str__(self) -> str:
        return f"{self.esp}: {self.event_count} event(s) received {self.received_at:%Y-%m-%d %H:%M}"


class WebhookToken(models.Model):
    """A signed webhook's one-time token (Mailgun signs only a timestamp and a token, so a
    captured signature fits any body): kept with its post, so the same token again is a replay.
    Purged once older than any signature still accepted."""

    esp = models.CharField(max_length=20)
    token = models.CharField(max_length=128)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["esp", "token"], name="one_post_per_webhook_token")
        ]
        indexes = [models.Index(fields=["received_at"], name="webhook_token_received")]

    def __str__(self) -> str:
        return f"{self.esp} token received {self.received_at:%Y-%m-%d %H:%M}"


class EmailAttachment(models.Model):
    """A file an email carried (an invoice's PDF), kept as sent for as long as the email."""

    email = models.ForeignKey(OutboundEmail, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()

    def __str__(self) -> str:
        return self.filename


class EmailDayCount(models.Model):
    """How many of a clinic's emails of one day (on the clinic's clock, the day each was saved)
    stand at one status, failure cause, refusal and hand-over: the figures the overviews and
    the reputation guard read instead of the email table. Kept by the database itself: a
    trigger on the email table writes each change to `EmailCountChange`, which
    `messaging/reputation/rollups.py` folds in here."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    status = models.CharField(max_length=20, choices=EmailStatus.choices)
    failure_cause = models.CharField(max_length=20, blank=True)
    refusal = models.CharField(max_length=20, blank=True)
    handed_over = models.BooleanField(help_text="It reached the ESP or the clinic's server.")
    emails = models.IntegerField()

    objects = ScopedManager(clinic="clinic")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "day", "status", "failure_cause", "refusal", "handed_over"],
                name="one_count_per_day_and_state",
            )
        ]
        indexes = [models.Index(fields=["day"], name="email_count_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.emails} {self.status}"


class EmailCountChange(models.Model):
    """A change to `EmailDayCount` not folded in yet, written by the email table's trigger:
    appended only, so that concurrent sends and the drain never wait on each other for a count.
    No foreign key: a clinic being deleted leaves its last changes, which the fold drops."""

    clinic = models.ForeignKey(
        Clinic, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    status = models.CharField(max_length=20, choices=EmailStatus.choices)
    failure_cause = models.CharField(max_length=20, blank=True)
    refusal = models.CharField(max_length=20, blank=True)
    handed_over = models.BooleanField()
    emails = models.IntegerField(help_text="Signed: emails that left this state count less.")

    objects = ScopedManager(clinic="clinic")

    def __str__(self) -> str:
        return f"{self.day}: {self.emails:+d} {self.status}"


class DeliveredAddress(models.Model):
    """An address the clinic's mail has reached (an ESP reported it delivered): the reputation
    guard never holds mail to it. Written by the email table's trigger; kept while one of the
    clinic's clients has the address (messaging/log/retention.py), long after its emails."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254, help_text="Lower case.")
    first_delivered_at = models.DateTimeField()

    objects = ScopedManager(clinic="clinic")

    class Meta:
        verbose_name_plural = "delivered addresses"
        constraints = [
            models.UniqueConstraint(fields=["clinic", "address"], name="one_delivered_address")
        ]

    def __str__(self) -> str:
        return self.address


class MailHold(models.Model):
    """The reputation guard held a clinic's mail to addresses never delivered to, because its
    hard bounces or spam complaints passed a hold threshold; support releases it with a reason."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="mail_holds")
    started_at = models.DateTimeField(default=timezone.now)
    why = models.TextField(help_text="The figures that passed the threshold, in words.")
    sends = models.PositiveIntegerField(help_text="Emails handed over in the window.")
    bounces = models.PositiveIntegerField(help_text="Hard bounces in the window.")
    complaints = models.PositiveIntegerField(help_text="Spam complaints in the window.")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    release_reason = models.TextField(blank=True)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic"],
                condition=models.Q(released_at__isnull=True),
                name="one_standing_hold_per_clinic",
            )
        ]

    def __str__(self) -> str:
        state = "released" if self.released_at else "in force"
        return f"Hold on {self.clinic} since {self.started_at:%Y-%m-%d %H:%M} UTC ({state})"


class GuardWarning(models.Model):
    """A clinic's bounce or complaint rate crossed a threshold: its admins and support were told
    once, with the addresses behind it. `ended_at` is set once the rate falls back below it, so
    that the next crossing is told again."""

    class Measure(models.TextChoices):
        BOUNCES = "bounces", "Hard bounces"
        COMPLAINTS = "complaints", "Spam complaints"

    class Level(models.TextChoices):
        WARNING = "warning", "Warning"
        HOLD = "hold", "Hold"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="guard_warnings")
    measure = models.CharField(max_length=20, choices=Measure.choices)
    level = models.CharField(max_length=20, choices=Level.choices)
    rate = models.FloatField(help_text="Percent of the emails handed over in the window.")
    sends = models.PositiveIntegerField()
    events = models.PositiveIntegerField()
    addresses = models.TextField(blank=True, help_text="The addresses behind it, one per line.")
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "measure", "level"],
                condition=models.Q(ended_at__isnull=True),
                name="one_standing_warning",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_measure_display()} at {self.rate:.2f}% ({self.get_level_display()})"
