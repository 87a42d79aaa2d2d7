from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

# A request the client emailed is not typed in here: anyone can write a From address. It is
# approved under Removal requests, where the email provider's own checks show who sent it.
REQUEST_CHANNELS = [
    ("", "—"),
    ("phone", "Phone"),
    ("in_person", "In person"),
    ("letter", "Letter"),
]


class ReactivationForm(forms.Form):
    """Support's reasons for mailing an address again, and for a spam complaint the client's
    own request as support took it (by phone, in person or by letter)."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this address may be mailed again (recorded in its history).",
    )
    request_received_on = forms.DateField(
        required=False,
        initial=timezone.localdate,
        # A browser's date field takes only ISO dates (2026-11-30); any other format shows blank.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        label="Client's request: date",
    )
    request_channel = forms.ChoiceField(
        required=False,
        choices=REQUEST_CHANNELS,
        label="Client's request: how it was made",
    )
    request_reference = forms.CharField(
        required=False,
        max_length=200,
        label="Client's request: reference (call log, ticket or letter)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request_channel"].help_text = EMAILED_REQUEST_HELP.format(
            support_email=settings.SUPPORT_EMAIL
        )

    def clean_request_received_on(self):
        received_on = self.cleaned_data["request_received_on"]
        if received_on and received_on > latest_today():
            raise forms.ValidationError(
                "That date is in the future: give the day the client made the request."
            )
        return received_on

    def clean(self):
        data = super().clean()
        told = data.get("request_channel") or data.get("request_reference")
        dated = data.get("request_received_on") or "request_received_on" in self.errors
        if told and not dated:
            self.add_error("request_received_on", "Give the day the client made the request.")
        return data


EMAILED_REQUEST_HELP = (
    "A request the client emailed to {support_email} is approved under Removal requests, once "
    "the email provider's checks show the client sent it."
)


def latest_today():
    """Today's date where it is latest on Earth (UTC+14): a request made today, wherever the
    client or support is, is never taken for one in the future."""
    return (timezone.now() + timedelta(hours=14)).date()


class ReactivationAskForm(forms.Form):
    """Staff's note to support: why the client's address may be emailed again."""

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        label="Note to support",
        help_text="How you know the address is right: for example, the client confirmed it by "
        "phone today and their mailbox is working.",
    )
