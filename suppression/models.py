from django.conf import settings
from django.db import models

from clinic.models import NormalizedEmailField


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    SPAM_COMPLAINT = "spam_complaint", "Spam complaint"
    INVALID_ADDRESS = "invalid_address", "Invalid address"
    ESP_REJECTED = "esp_rejected", "Refused by the email provider"
    MANUAL = "manual", "Blocked by support"


# What a receptionist is told, and what to do about it.
REASON_WORDS: dict[str, str] = {
    SuppressionReason.HARD_BOUNCE: (
        "Emails to this address bounce: the mailbox or its domain does not exist. "
        "Check the address with the client and correct it."
    ),
    SuppressionReason.SPAM_COMPLAINT: (
        "The client marked one of our emails as spam, so this address is no longer emailed. "
        "Only the client's own request, sent from this address, can lift it."
    ),
    SuppressionReason.INVALID_ADDRESS: (
        "This address is not a valid email address. Check it with the client and correct it."
    ),
    SuppressionReason.ESP_REJECTED: (
        "Our email provider refuses this address because earlier emails to it failed. "
        "Check the address with the client; support can reactivate it once it is right."
    ),
    SuppressionReason.MANUAL: "Support has blocked email to this address.",
}


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

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["address", "stream"], name="one_suppression_per_stream")
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_reason_display()})"

    @property
    def words(self) -> str:
        return REASON_WORDS[self.reason]


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
