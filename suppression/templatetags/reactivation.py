"""What the client page says of support's part in a suppressed address: the open ask, or that
the address was reactivated and the client may be opted back in."""

from django import template

from suppression.models import SuppressionHistory
from suppression.services import open_reactivation_ask

register = template.Library()


@register.simple_tag
def reactivation_ask_open(client, address_block):
    """The clinic's open ask to reactivate the address that blocks this client, if any."""
    if address_block is None:
        return None
    return open_reactivation_ask(clinic=client.clinic, suppression=address_block.suppression)


@register.simple_tag
def address_reactivated(client):
    """Support's reactivation of this client's address since the client was opted out, when
    this clinic's emails had caused the suppression (only then may it know); else None."""
    if client.appointment_comms or not client.email:
        return None
    reactivations = SuppressionHistory.objects.filter(
        suppression__address=client.email,
        suppression__active=False,
        action="reactivated",
        evidence__clinics__contains=[client.clinic_id],
    )
    if client.appointment_comms_changed_at:
        reactivations = reactivations.filter(at__gte=client.appointment_comms_changed_at)
    return reactivations.order_by("-at").first()
