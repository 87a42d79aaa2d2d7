from datetime import timedelta

import factory
from django.utils import timezone

from clinic.models import Appointment, Client, Clinic, Invoice, Membership, SmartForm, User

PASSWORD = "a-strong-test-password"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    time_zone = "Europe/London"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@staff.test")
    first_name = "Staff"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = Membership.Role.PRACTITIONER


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Client {n}")
    email = factory.Sequence(lambda n: f"client{n}@example.test")


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    client = factory.SubFactory(ClientFactory)
    clinic = factory.SelfAttribute("client.clinic")
    practitioner = factory.SubFactory(UserFactory)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=45))


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    client = factory.SubFactory(ClientFactory)
    clinic = factory.SelfAttribute("client.clinic")
    number = factory.Sequence(lambda n: f"INV-{n:04d}")
    issue_date = factory.LazyFunction(lambda: timezone.localdate())
    line_items = [{"description": "Assessment", "quantity": 1, "unit_price": "60.00"}]
    total = "60.00"


class SmartFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmartForm

    clinic = factory.SubFactory(ClinicFactory)
    title = "Intake"
    fields = [
        {"name": "reason", "label": "Reason for visit", "type": "text", "required": True},
        {"name": "consent", "label": "I consent", "type": "checkbox", "required": True},
    ]
