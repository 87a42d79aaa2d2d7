from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from clinic.access import clinic_staff_required
from notifications.selectors import notifications_for, unread_count
from notifications.services import notifications_mark_read


@clinic_staff_required
def notification_list(request):
    page = Paginator(notifications_for(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@require_GET
@clinic_staff_required
def notification_bell(request):
    return render(
        request,
        "notifications/bell.html",
        {"unread_notifications": unread_count(user=request.user)},
    )


@require_POST
@clinic_staff_required
def notification_read(request, notification_id: int):
    notifications_mark_read(user=request.user, notification_id=notification_id)
    return redirect(_safe_next(request) or "notification-list")


def _safe_next(request) -> str | None:
    """The page to go back to, if it is one of ours: a `next` naming another site (an open
    redirect for phishing) or a `javascript:` URL is ignored."""
    target = request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_POST
@clinic_staff_required
def notification_read_all(request):
    notifications_mark_read(user=request.user)
    return redirect("notification-list")
