from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from clinic.models import Client, Clinic


class Notification(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.TextField()
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    email_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(clinic="clinic")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def anchor(self) -> str:
        """Where on the client's page the email it names is: the page shows the log's page that
        holds it, and opens it."""
        return f"?email={self.email_id}#email-{self.email_id}" if self.email_id else ""

    @property
    def open_words(self) -> str:
        name = self.client.name if self.client_id else ""
        return f"Open {name}: the email" if self.email_id else f"Open {name}"
