from django_scopes import scope, scopes_disabled

from clinic.models import Membership


def membership_of(user) -> Membership | None:
    if not user.is_authenticated:
        return None
    # The scope is not known until we know the user's clinic.
    with scopes_disabled():
        return Membership.objects.select_related("clinic").filter(user=user).first()


class ClinicScopeMiddleware:
    """Enters the logged-in staff member's clinic scope for the whole request.

    Anyone else runs with an empty scope, so a clinic-owned query outside a clinic finds nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = membership_of(request.user)
        request.clinic = request.membership.clinic if request.membership else None
        with scope(clinic=request.clinic):
            return self.get_response(request)
