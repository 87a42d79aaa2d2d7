from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def clinic_staff_required(view):
    """The page belongs to a clinic: the user must be logged in and a member of one."""

    @login_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if request.membership is None:
            raise PermissionDenied("This page is for clinic staff.")
        return view(request, *args, **kwargs)

    return guarded


def clinic_admin_required(view):
    @clinic_staff_required
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.membership.is_clinic_admin:
            raise PermissionDenied("Only the clinic's admins can do this.")
        return view(request, *args, **kwargs)

    return guarded
