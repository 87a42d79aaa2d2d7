"""A clinic's clock (its time zone) changed: the apps above clinic/ keep figures by day on that
clock (the email counts), and count them again on the new one. clinic/ imports none of them, so
it announces the change by a signal they answer."""

from django import forms
from django.db import transaction
from django.dispatch import Signal

from clinic.models import Clinic
from clinic.settings_audit import settings_changed

# Sent once the change is committed, with `clinic_id`.
clinic_clock_changed = Signal()


def clock_change_announce(*, clinic: Clinic, form: forms.ModelForm) -> None:
    """After a settings form (the clinic's page or support's admin) is saved: when it changed
    the time zone, tells the receivers once the change commits, so that they read the new zone
    and never count again from a change rolled back."""
    if "time_zone" not in settings_changed(form):
        return
    clinic_id = clinic.pk
    transaction.on_commit(
        lambda: clinic_clock_changed.send(sender=Clinic, clinic_id=clinic_id), robust=False
    )
