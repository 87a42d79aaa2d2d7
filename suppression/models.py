from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from clinic.models import Clinic, NormalizedEmailField


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    SPAM_COMPLAINT = "spam_complaint", "Spam complaint"
    INVALID_ADDRESS = "invalid_address", "Invalid address"
    ESP_REJECTED = "esp_rejected", "Refused by the email provider"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed at the email provider"
    MANUAL = "manual", "Blocked by support"


# What a receptionist is told, and what to do about it; `{support_email}` is filled in by
# reason_words().
REASON_WORDS: dict[str, str] = {
    SuppressionReason.HARD_BOUNCE: (
        "Emails to this address bounce: the mailbox or its domain does not exist. "
        "Check the address with the client and correct it."
    ),
    SuppressionReason.SPAM_COMPLAINT: (
        "The client marked one of our emails as spam, so this address is no longer emailed. "
        "Only the client's own request can lift it: ask them to email {support_email} from "
        "this address, saying they want the clinic's emails again."
    ),
    SuppressionReason.INVALID_ADDRESS: (
        "This address is not a valid email address. Check it with the client and correct it."
    ),
    SuppressionReason.ESP_REJECTED: (
        "Our email provider refuses this address because earlier emails to it failed. "
        "Check the address with the client; support can reactivate it once it is right."
    ),
    SuppressionReason.UNSUBSCRIBED: (
        "The client unsubscribed through a link in one of our emails, and our email provider "
        "refuses to send to this address since. Only the client can undo it: ask them to "
        "email {support_email} from this address, saying they want the clinic's emails again."
    ),
    SuppressionReason.MANUAL: "Support has blocked email to this address.",
}


def reason_words(reason: str) -> str:
    """What a receptionist is told about a suppression's reason. Where only the client can lift
    it, the words name the address the client writes to (the setting SUPPORT_EMAIL), read when
    the words are used so that a changed setting never leaves a stale address behind."""
    return REASON_WORDS[reason].format(support_email=settings.SUPPORT_EMAIL)


class Refusal(models.TextChoices):
    """Why an email was not sent at all, as a code: the API answers with it."""

    NO_ADDRESS = "no_address", "No address on file"
    SUPPRESSED = "suppressed", "Address suppressed"
    OPTED_OUT = "opted_out", "Opted out of appointment emails"


class EspRemoval(models.TextChoices):
    PENDING = "pending", "Pending: will be retried"
    DONE = "done", "Removed at the ESP"
    NOT_NEEDED = "none", "Not on an ESP list"


class Suppression(models.Model):
    """An address that must not be mailed on one sending stream (the platform's ESP account)."""

    address = NormalizedEmailField(max_length=254)
    stream = models.CharField(max_length=40, help_text="The ESP account whose list this is on.")
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    diagnostic = models.TextField(blank=True, help_text="The ESP's own words.")
    source_email_id = models.UUIDField(null=True, blank=True)
    source_event_id = models.BigIntegerField(null=True, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now_add=True)
    times_seen = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    esp_removal = models.CharField(
        "removal at the ESP", max_length=10, choices=EspRemoval.choices, blank=True
    )
    esp_removal_attempts = models.PositiveSmallIntegerField(default=0)
    esp_removal_error = models.TextField(blank=True)
    caused_by = models.ManyToManyField(
        Clinic,
        through="SuppressionCause",
        blank=True,
        related_name="+",
        help_text="The clinics whose emails bounced or drew the complaint: for them the "
        "suppression applies whatever connection they send through.",
    )

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["address", "stream"], name="one_suppression_per_stream")
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_reason_display()})"

    @property
    def words(self) -> str:
        return reason_words(self.reason)

    @property
    def needs_clients_request(self) -> bool:
        return self.reason == SuppressionReason.SPAM_COMPLAINT


class SuppressionCause(models.Model):
    """One clinic's part in a suppression: what its own emails met, and when. A clinic is told
    this, never another clinic's; the suppression itself holds the latest of all of them, for
    support. Removed when the suppression is lifted: a new suppression starts afresh."""

    suppression = models.ForeignKey(Suppression, on_delete=models.CASCADE, related_name="causes")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    diagnostic = models.TextField(blank=True, help_text="The ESP's own words.")
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["suppression", "clinic"], name="one_cause_per_clinic")
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} of {self.clinic}'s email"


class SuppressionHistory(models.Model):
    """Append-only: who changed a suppression, when, what, why, and on what evidence."""

    suppression = models.ForeignKey(Suppression, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    why = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "suppression history"

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d %H:%M}"


class RemovalRequest(models.Model):
    """A message from a suppressed address asking to be mailed again, for support to decide."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for support"
        APPROVED = "approved", "Approved: address reactivated"
        DECLINED = "declined", "Declined"

    suppression = models.ForeignKey(
        Suppression, on_delete=models.CASCADE, related_name="removal_requests"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    from_address = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    esp = models.CharField(max_length=20)
    spf = models.CharField("SPF verdict", max_length=100, blank=True)
    dkim = models.CharField("DKIM verdict", max_length=100, blank=True)
    dmarc = models.CharField("DMARC verdict", max_length=100, blank=True)
    verified = models.BooleanField(
        "sent by the client",
        default=False,
        help_text="The ESP's own checks show the address's domain sent it (DMARC, or aligned "
        "SPF or DKIM). Only a verified request can be approved.",
    )
    verification = models.TextField(
        blank=True, help_text="Why the request is, or is not, taken as the client's own."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["suppression", "message_id"],
                condition=~models.Q(message_id=""),
                name="one_request_per_message",
            )
        ]

    def __str__(self) -> str:
        return f"Removal request from {self.from_address}"


class ReactivationAsk(models.Model):
    """Clinic staff asking support to reactivate a client's suppressed address, with a note."""

    class State(models.TextChoices):
        OPEN = "open", "Waiting for support"
        REACTIVATED = "reactivated", "Reactivated"
        DECLINED = "declined", "Declined"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    suppression = models.ForeignKey(Suppression, on_delete=models.CASCADE, related_name="asks")
    client_name = models.CharField(max_length=200, blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField()
    asked_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField(blank=True)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["-asked_at"]

    def __str__(self) -> str:
        return f"Reactivation asked for {self.suppression.address}"
