from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from clinic.access import clinic_staff_required
from clinic.models import Client
from suppression.forms import ReactivationAskForm
from suppression.selectors import address_block
from suppression.services import Refused, client_opt_in, reactivation_ask_create


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


@clinic_staff_required
def reactivation_ask_view(request, client_id: int):
    """Staff ask support to reactivate a client's suppressed address, with a note. On its own
    page, not the client page, whose live parts refresh every two seconds and would wipe a
    note half typed."""
    client = get_object_or_404(Client.objects.all(), pk=client_id)
    block = address_block(clinic=client.clinic, address=client.email)
    form = ReactivationAskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reactivation_ask_create(
                client=client, actor=request.user, note=form.cleaned_data["note"]
            )
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                "Support has been asked to reactivate the address. You will be notified of "
                "the answer.",
            )
            return redirect("client-detail", client_id=client.pk)
    return render(
        request,
        "suppression/reactivation_ask.html",
        {"client": client, "address_block": block, "form": form},
    )
