from django.core.management.base import BaseCommand

from clinic.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Creates the demo clinics, users and clients (idempotent)."

    def handle(self, *args, **options) -> None:
        clinics = seed_demo()
        names = ", ".join(clinic.name for clinic in clinics)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {names}."))
        self.stdout.write(f"Every demo user's password is {DEMO_PASSWORD}.")
