from base64 import b32encode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinic.demo import DEMO_AUTHENTICATOR_KEY, DEMO_PASSWORD, DEMO_SUPPORT_EMAIL, seed_demo


class Command(BaseCommand):
    help = (
        "Creates the demo clinics, users and clients (idempotent). DEBUG only: every demo "
        "account's password and the support account's authenticator key are published."
    )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts whose password and authenticator key are published, "
                "so it runs only with DEBUG=true, never on a server holding real patients' data."
            )
        clinics = seed_demo()
        names = ", ".join(clinic.name for clinic in clinics)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {names}."))
        self.stdout.write(f"Every demo user's password is {DEMO_PASSWORD}.")
        secret = b32encode(bytes.fromhex(DEMO_AUTHENTICATOR_KEY)).decode()
        self.stdout.write(
            f"The support admin ({DEMO_SUPPORT_EMAIL}) also asks for an authenticator code: add "
            f"the key {secret} to an authenticator app (TOTP, 6 digits, 30 seconds), or run "
            f"`oathtool --totp -b {secret}`."
        )
