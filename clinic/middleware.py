from django.utils import timezone
from django_scopes import scope, scopes_disabled

from clinic.models import Membership


def membership_of(user) -> Membership | None:
    if not user.is_authenticated:
        return None
    # The scope is not known until we know the user's clinic.
    with scopes_disabled():
        return Membership.objects.select_related("clinic").filter(user=user).first()


class ClinicScopeMiddleware:
    """Enters the logged-in staff member's clinic scope and time zone for the whole request.

    Anyone else runs with an empty scope, so a clinic-owned query outside a clinic finds nothing,
    and in UTC (settings.TIME_ZONE). Staff read every time on their clinic's wall clock: the
    templates' date filters, forms' datetime fields and `timezone.localtime()` all follow the
    zone activated here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = membership_of(request.user)
        request.clinic = request.membership.clinic if request.membership else None
        with scope(clinic=request.clinic), timezone.override(clinic_zone(request.clinic)):
            return self.get_response(request)


def clinic_zone(clinic):
    """The clinic's zone, or None (the default zone, UTC) outside any clinic."""
    return clinic.tzinfo if clinic else None
