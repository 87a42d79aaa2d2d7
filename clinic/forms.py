from django import forms

from clinic.addresses import suggest_address, validate_email_syntax
from clinic.models import Client, normalize_email_address


class ClientForm(forms.ModelForm):
    address_confirmed = forms.BooleanField(
        required=False, label="The address is right as typed", widget=forms.CheckboxInput
    )

    class Meta:
        model = Client
        fields = ["name", "email"]

    def clean_email(self) -> str:
        address = self.cleaned_data["email"]
        if not address:
            return address
        address = normalize_email_address(validate_email_syntax(address))
        suggestion = suggest_address(address)
        if suggestion and not self.data.get("address_confirmed"):
            raise forms.ValidationError(
                f"Did you mean {suggestion}? Correct it, or tick “The address is right as "
                "typed” to keep it.",
                code="suggestion",
            )
        return address

    @property
    def address_changed(self) -> bool:
        return "email" in self.changed_data
