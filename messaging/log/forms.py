from django import forms

from clinic.forms import ClientForm
from clinic.models import Client, Invoice, SmartForm


class DirectMessageForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(
        label="Message", max_length=10000, widget=forms.Textarea(attrs={"rows": 5})
    )

    def clean_body(self) -> str:
        # Browsers post a textarea's line breaks as CRLF: the email's text keeps one kind.
        return self.cleaned_data["body"].replace("\r\n", "\n").replace("\r", "\n")


class InvoiceSendForm(forms.Form):
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none(), empty_label=None)

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = Invoice.objects.filter(client=client)
        self.fields["invoice"].label_from_instance = lambda invoice: (
            f"{invoice.number}, {invoice.issue_date:%d %b %Y}, {invoice.currency} {invoice.total}"
        )


class SmartFormSendForm(forms.Form):
    form = forms.ModelChoiceField(
        label="Smart form", queryset=SmartForm.objects.none(), empty_label=None
    )

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form"].queryset = SmartForm.objects.filter(clinic=client.clinic)


SEND_FORMS = {
    "direct_message": DirectMessageForm,
    "invoice": InvoiceSendForm,
    "smart_form": SmartFormSendForm,
}


def send_forms_for(client: Client, data=None, kind: str | None = None) -> dict[str, forms.Form]:
    """One form per kind of manual email; only the submitted one is bound."""
    built = {}
    for name, form_class in SEND_FORMS.items():
        bound = data if name == kind else None
        extra = {} if form_class is DirectMessageForm else {"client": client}
        built[name] = form_class(bound, prefix=name, **extra)
    return built


class ResendForm(ClientForm):
    """The client's address, corrected before a failed email is resent: checked as on the
    client's own form (syntax, a likely typo suggested). Saved by the resend itself, never by
    the form, so a refused resend leaves the address as it was."""

    class Meta(ClientForm.Meta):
        fields = ["email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
