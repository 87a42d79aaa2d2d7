import io

import qrcode
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import User

DEVICE_NAME = "authenticator app"


def authenticator_enrol(user: User, *, replace: bool) -> TOTPDevice:
    """A new confirmed TOTP device for a support person; `replace` retires their old one (a lost
    or replaced phone), which stops working at once."""
    with transaction.atomic():
        existing = TOTPDevice.objects.select_for_update().filter(user=user)
        if existing.exists():
            if not replace:
                raise CommandError(
                    f"{user.email} already has an authenticator app enrolled. Run again with "
                    "--replace to retire it and enrol a new one (a lost or replaced phone)."
                )
            existing.delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)


def terminal_qr(text: str) -> str:
    code = qrcode.QRCode(border=2)
    code.add_data(text)
    drawn = io.StringIO()
    code.print_ascii(out=drawn, invert=True)
    return drawn.getvalue()


class Command(BaseCommand):
    help = (
        "Enrols the authenticator app a support person (a superuser) needs to open the support "
        "admin: prints the otpauth URL and its QR code once, to be scanned and never stored."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", help="the support person's login email address")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="retire the account's current authenticator app and enrol a new one",
        )

    def handle(self, *args, email: str, replace: bool, **options) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account has the email address {email}.")
        if not user.is_superuser:
            raise CommandError(
                f"{user.email} is not a support account (superuser); clinic staff log in with "
                "their password only."
            )
        device = authenticator_enrol(user, replace=replace)
        url = device.config_url
        self.stdout.write(
            f"Authenticator app enrolled for {user.email}. Scan this QR code with the app (or "
            "enter the otpauth URL below); it is shown only this once, so do not keep a copy:"
        )
        self.stdout.write(terminal_qr(url))
        self.stdout.write(url)
