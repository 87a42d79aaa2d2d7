from django import template
from django.conf import settings
from django.core.paginator import Paginator

from messaging.presentation import FINAL_STATUSES, TRACKING_CAVEAT, status_help, status_tone
from messaging.selectors import client_email_log

register = template.Library()

PAGE_SIZE = 20


def email_log_context(client, page_number) -> dict:
    days = settings.EMAIL_LOG_RETENTION_DAYS
    page = Paginator(client_email_log(client=client, days=days), PAGE_SIZE).get_page(page_number)
    return {
        "client": client,
        "page": page,
        "days": days,
        "caveat": TRACKING_CAVEAT,
        "settled": all(email.status in FINAL_STATUSES for email in page.object_list),
    }


@register.inclusion_tag("messaging/email_log.html", takes_context=True)
def email_log(context, client) -> dict:
    return email_log_context(client, context["request"].GET.get("page"))


@register.filter
def tone(status: str) -> str:
    return status_tone(status)


@register.filter
def explained(status: str) -> str:
    return status_help(status)


@register.inclusion_tag("messaging/send_panel.html", takes_context=True)
def send_panel(context, client) -> dict:
    from messaging.forms import send_forms_for

    return {"client": client, "forms": send_forms_for(client), "csrf_token": context["csrf_token"]}
