from clinic.models import Clinic
from suppression.models import Suppression
from suppression.services import sending_stream


def address_suppression(*, clinic: Clinic, address: str) -> Suppression | None:
    """The active suppression that stops this clinic mailing the address, if any."""
    stream = sending_stream(clinic)
    if not address or stream is None:
        return None
    return Suppression.objects.filter(address=address, stream=stream, active=True).first()
