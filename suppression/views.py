from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from clinic.access import clinic_staff_required
from clinic.models import Client
from suppression.services import Refused, client_opt_in


@require_POST
@clinic_staff_required
def client_opt_in_view(request, client_id: int):
    client = get_object_or_404(Client.objects.all(), pk=client_id)
    try:
        client_opt_in(client=client, actor=request.user)
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"{client.name} will receive appointment emails again.")
    return redirect("client-detail", client_id=client.pk)
