from django import forms

from clinic.addresses import suggest_address, validate_email_syntax
from clinic.models import Client, Clinic, normalize_email_address
from clinic.smtp_servers import SmtpServerNotAllowed, smtp_port_check, smtp_server_addresses


class ClientForm(forms.ModelForm):
    address_confirmed = forms.BooleanField(
        required=False, label="The address is right as typed", widget=forms.CheckboxInput
    )

    class Meta:
        model = Client
        fields = ["name", "email"]
        labels = {"email": "Email address"}

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


class ClinicSettingsForm(forms.ModelForm):
    smtp_password = forms.CharField(
        label="SMTP password",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Never shown again once saved. Leave blank to keep the current one.",
    )

    class Meta:
        model = Clinic
        fields = [
            "time_zone",
            "reminder_lead_hours",
            "postal_address",
            "phone",
            "booking_changes",
            "from_name",
            "reply_to_email",
            "sending_connection",
            "smtp_host",
            "smtp_port",
            "smtp_username",
            "smtp_password",
            "smtp_security",
            "smtp_from_email",
            "track_engagement",
        ]
        widgets = {
            "sending_connection": forms.RadioSelect,
            "postal_address": forms.Textarea(attrs={"rows": 3}),
            "booking_changes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "from_name": "From name",
            # Set here, not as the model's verbose_name: Django would capitalise "smtp" alone.
            "smtp_host": "SMTP host",
            "smtp_port": "SMTP port",
            "smtp_username": "SMTP username",
            "smtp_from_email": "From email address",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._explain_the_sender()

    def _explain_the_sender(self) -> None:
        """An empty From name or Reply-To is allowed, and says what is used instead: the
        clinic's name, and its first clinic admin's address."""
        clinic = self.instance
        from_name = self.fields["from_name"]
        named = f", “{clinic.name}”" if clinic.name else ""
        from_name.help_text = (
            f"The name clients see your emails come from. Leave it empty to use the clinic's "
            f"name{named}."
        )
        from_name.widget.attrs["placeholder"] = clinic.name
        admin_address = clinic.first_admin_address() if clinic.pk else ""
        fallback = (
            f"the first clinic admin's address, {admin_address}"
            if admin_address
            else "the first clinic admin's address (the clinic has no clinic admin yet)"
        )
        self.fields["reply_to_email"].help_text = (
            f"When a client replies to any email from the clinic, the reply goes here. Leave "
            f"it empty to use {fallback}."
        )
        self.fields["reply_to_email"].widget.attrs["placeholder"] = admin_address

    # The stored password goes only to the server it was typed for: changing where or as whom
    # the clinic's mail is sent needs it typed again, or the saved password could be sent to a
    # server of whoever changed the settings.
    PASSWORD_BOUND_TO = ("smtp_host", "smtp_port", "smtp_security", "smtp_username")

    def clean_smtp_password(self) -> str:
        return self.cleaned_data["smtp_password"]

    def clean(self):
        data = super().clean()
        if data.get("sending_connection") == Clinic.Connection.OWN_SMTP:
            for name in ("smtp_host", "smtp_from_email"):
                if not data.get(name):
                    self.add_error(name, "Needed to send through the clinic's own server.")
            self._check_smtp_server(data)
            if not data.get("smtp_password") and self.instance.smtp_password:
                if any(name in self.changed_data for name in self.PASSWORD_BOUND_TO):
                    self.add_error(
                        "smtp_password",
                        "Type the password again: the server or user name changed, and the "
                        "saved password is only ever sent to the server it was given for.",
                    )
                else:
                    data["smtp_password"] = self.instance.smtp_password
        else:  # back on the platform's service: the clinic's credentials are not kept
            data["smtp_username"] = data["smtp_password"] = ""
        return data

    def _check_smtp_server(self, data: dict) -> None:
        """Only a server on the internet, on an email port (checked again at every connection,
        since a name may resolve elsewhere by then)."""
        port = data.get("smtp_port")
        try:
            smtp_port_check(port)
        except SmtpServerNotAllowed as refusal:
            if port is not None:
                self.add_error("smtp_port", refusal.words)
            return
        if data.get("smtp_host"):
            try:
                smtp_server_addresses(data["smtp_host"], port)
            except SmtpServerNotAllowed as refusal:
                self.add_error("smtp_host", refusal.words)
