"""The audit trail's entry for a change of a clinic's settings: who changed which fields, by name
only. Values are never written, so that a secret (the SMTP password) never reaches the trail."""

from django import forms

from clinic.audit import audit_record
from clinic.models import AuditEntry, Clinic


def settings_changed(form: forms.ModelForm) -> list[str]:
    """The fields whose saved value differs from the one the form started from. (A form's own
    `changed_data` counts the password box left empty, which keeps the password, as a change.)"""
    return [
        name
        for name in form.fields
        if name in form.cleaned_data and form.cleaned_data[name] != form.initial.get(name)
    ]


def clinic_settings_audit(*, actor, clinic: Clinic, form: forms.ModelForm, via: str) -> None:
    """Records a change of the clinic's settings through `via` (the settings page or the support
    admin); nothing when no field changed."""
    changed = settings_changed(form)
    if changed:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CHANGED_CLINIC_SETTINGS,
            clinic=clinic,
            target=f"clinic {clinic.pk}",
            fields=changed,
            via=via,
        )
