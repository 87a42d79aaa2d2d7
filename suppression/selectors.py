from clinic.models import Clinic
from suppression.models import Suppression
from suppression.streams import suppression_stream


def address_suppression(*, clinic: Clinic, address: str) -> Suppression | None:
    """The active suppression that stops this clinic mailing the address, if any."""
    stream = suppression_stream(clinic)
    if not address or stream is None:
        return None
    return Suppression.objects.filter(address=address, stream=stream, active=True).first()


def suppressed_addresses(*, clinic: Clinic, addresses: list[str]) -> set[str]:
    """Which of these addresses this clinic may not mail (one query)."""
    stream = suppression_stream(clinic)
    if stream is None:
        return set()
    return set(
        Suppression.objects.filter(
            address__in=[a for a in addresses if a], stream=stream, active=True
        ).values_list("address", flat=True)
    )
