from django import forms
from django.utils import timezone


class ReactivationForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this address may be mailed again (recorded in its history).",
    )
    request_received_on = forms.DateField(
        required=False,
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Client's request: date",
    )
    request_channel = forms.ChoiceField(
        required=False,
        choices=[
            ("", "—"),
            ("email", "Email"),
            ("phone", "Phone"),
            ("in_person", "In person"),
            ("letter", "Letter"),
        ],
        label="Client's request: channel",
    )
    request_reference = forms.CharField(
        required=False, max_length=200, label="Client's request: reference (message id, ticket)"
    )
    request_from_address = forms.EmailField(
        required=False, label="Client's request: made from address"
    )
