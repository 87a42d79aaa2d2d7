"""The booking form on the client page, built where it is shown."""

from django import template

from messaging.booking.forms import BookingForm

register = template.Library()


@register.inclusion_tag("messaging/booking/_form.html", takes_context=True)
def booking_form(context, client):
    return {
        "client": client,
        "form": BookingForm(client=client, prefix="booking"),
        "csrf_token": context.get("csrf_token"),
    }
