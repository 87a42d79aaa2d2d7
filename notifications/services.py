from django.utils import timezone

from clinic.models import Client, Clinic, Membership
from notifications.models import Notification


def notification_create(
    *, clinic: Clinic, recipient, text: str, client: Client | None = None, email_id=None
) -> Notification:
    """Tells one member of staff something, linked to the client and email it is about."""
    return Notification.objects.create(
        clinic=clinic, recipient=recipient, text=text, client=client, email_id=email_id
    )


def notification_create_for_admins(
    *, clinic: Clinic, text: str, client: Client | None = None, email_id=None
) -> list[Notification]:
    admins = Membership.objects.filter(
        clinic=clinic, role=Membership.Role.CLINIC_ADMIN
    ).select_related("user")
    return [
        notification_create(
            clinic=clinic, recipient=m.user, text=text, client=client, email_id=email_id
        )
        for m in admins
    ]


def notifications_mark_read(*, user, notification_id: int | None = None) -> int:
    """Marks one of the user's notifications read, or all of them."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())
