from django import template
from django.conf import settings

from messaging.selectors import client_email_log

register = template.Library()


@register.inclusion_tag("messaging/email_log.html")
def email_log(client) -> dict:
    days = settings.EMAIL_LOG_RETENTION_DAYS
    return {"emails": client_email_log(client=client, days=days)[:50], "days": days}
