from django import template

from suppression.selectors import address_suppression

register = template.Library()


@register.inclusion_tag("suppression/address_status.html")
def address_status(client) -> dict:
    return {
        "client": client,
        "suppression": address_suppression(clinic=client.clinic, address=client.email),
    }
