from django.db.models import Q, QuerySet
from django.utils import timezone

from clinic.models import Appointment, Client, SmartFormRequest


def client_search(*, query: str = "") -> QuerySet[Client]:
    clients = Client.objects.all()
    query = query.strip()
    if query:
        clients = clients.filter(Q(name__icontains=query) | Q(email__icontains=query))
    return clients.order_by("name", "pk")


def client_upcoming_appointments(*, client: Client) -> QuerySet[Appointment]:
    return (
        Appointment.objects.filter(
            client=client, status=Appointment.Status.BOOKED, start__gte=timezone.now()
        )
        .select_related("practitioner")
        .order_by("start")
    )


def client_form_requests(*, client: Client, limit: int = 10) -> QuerySet[SmartFormRequest]:
    return (
        SmartFormRequest.objects.filter(client=client)
        .select_related("form")
        .order_by("-created_at")[:limit]
    )
