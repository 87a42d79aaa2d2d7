from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clinic.access import clinic_staff_required
from clinic.models import Client
from clinic.time_zones import with_zone
from messaging.booking.forms import BookingForm
from messaging.sending.triggers import appointment_book
from messaging.status import EmailStatus


@require_POST
@clinic_staff_required
def appointment_book_page(request, client_id: int):
    """Books an appointment from the client page; the confirmation goes out at once. A time to
    correct (one the clinic's clock skips, or shows twice) comes back with the form as filled in."""
    client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
    form = BookingForm(request.POST, client=client, prefix="booking")
    if not form.is_valid():
        messages.error(request, "The appointment was not booked: please correct the form below.")
        return render(
            request,
            "messaging/booking/book_page.html",
            {"client": client, "form": form},
            status=400,
        )
    data = form.cleaned_data
    appointment = appointment_book(
        client=client, practitioner=data["practitioner"], start=data["start"], end=data["end"]
    )
    when = with_zone(timezone.localtime(appointment.start), "l j F Y, H:i")
    confirmation = appointment.emails.get()
    if confirmation.refusal:
        messages.warning(
            request,
            f"Booked for {when} with {appointment.practitioner}. "
            f"No confirmation was sent: {confirmation.reason}",
        )
    elif confirmation.status == EmailStatus.HELD:
        messages.warning(
            request,
            f"Booked for {when} with {appointment.practitioner}. "
            "The confirmation was held, not sent yet. " + confirmation.reason,
        )
    else:
        messages.success(
            request,
            f"Booked for {when} with {appointment.practitioner}; "
            f"the confirmation to {client.email} is on its way.",
        )
    return redirect("client-detail", client_id=client.pk)
