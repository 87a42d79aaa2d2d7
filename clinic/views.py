from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from clinic.access import clinic_admin_required, clinic_staff_required
from clinic.clock_change import clock_change_announce
from clinic.forms import ClientForm, ClinicSettingsForm
from clinic.models import Client
from clinic.selectors import client_search
from clinic.settings_audit import clinic_settings_audit


def home(request):
    """Where a login lands: support (superusers, who belong to no clinic) in the support admin,
    which asks for their authenticator code; clinic staff on their clients."""
    if request.user.is_superuser and getattr(request, "membership", None) is None:
        return redirect("admin:index")
    return redirect("client-list")


@clinic_staff_required
def client_list(request):
    query = request.GET.get("q", "")
    page = Paginator(client_search(query=query), 25).get_page(request.GET.get("page"))
    return render(request, "clinic/client_list.html", {"page": page, "query": query})


@clinic_staff_required
def client_edit(request, client_id: int):
    client = get_object_or_404(Client.objects.all(), pk=client_id)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Details saved.")
        if form.address_changed and not client.appointment_comms:
            messages.info(
                request,
                "The address changed. The client is still opted out of appointment emails: "
                "opt them back in below if they want them.",
            )
        return redirect("client-detail", client_id=client.pk)
    return render(request, "clinic/client_form.html", {"client": client, "form": form})


@clinic_admin_required
def clinic_settings(request):
    form = ClinicSettingsForm(request.POST or None, instance=request.clinic)
    if request.method == "POST" and form.is_valid():
        form.save()
        clinic_settings_audit(
            actor=request.user, clinic=request.clinic, form=form, via="clinic settings page"
        )
        clock_change_announce(clinic=request.clinic, form=form)
        messages.success(request, "Clinic settings saved.")
        return redirect("clinic-settings")
    return render(request, "clinic/settings.html", {"form": form})
