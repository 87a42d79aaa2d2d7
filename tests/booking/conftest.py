from types import SimpleNamespace

import pytest
from django_scopes import scopes_disabled

from clinic.models import Membership
from tests.factories import ClientFactory, ClinicFactory, MembershipFactory


@pytest.fixture
def harbour(cast):
    """A New York clinic (its clocks change: 8 March and 1 November 2026) with a practitioner, a
    receptionist and a client; `cast` brings Charlie's clinic, which must never see it."""
    with scopes_disabled():
        clinic = ClinicFactory(
            name="Harbour Physio",
            time_zone="America/New_York",
            postal_address="12 Water Street\nBrooklyn, NY 11201",
            phone="+1 718 555 0100",
            booking_changes="Call us at least 24 hours before.",
        )
        practitioner = MembershipFactory(
            clinic=clinic, user__first_name="Aoife", user__last_name="O’Brien"
        ).user
        other = MembershipFactory(
            clinic=clinic, user__first_name="Nina", user__last_name="Patel"
        ).user
        receptionist = MembershipFactory(
            clinic=clinic,
            role=Membership.Role.RECEPTIONIST,
            user__first_name="أويفه",
            user__last_name="أوبراين",
            user__email="desk@harbour.test",
        ).user
        client = ClientFactory(clinic=clinic, name="Łukasz Żółć", email="lukasz@example.test")
    return SimpleNamespace(
        clinic=clinic,
        practitioner=practitioner,
        other=other,
        receptionist=receptionist,
        client=client,
        cast=cast,
    )
