from django import forms
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import csrf_protect
from django_scopes import scope, scopes_disabled

from clinic.models import SmartForm, SmartFormRequest
from clinic.services import smart_form_submit

FIELD_TYPES = {
    "text": lambda label, required: forms.CharField(
        label=label, required=required, max_length=2000
    ),
    "textarea": lambda label, required: forms.CharField(
        label=label, required=required, max_length=10000, widget=forms.Textarea
    ),
    "checkbox": lambda label, required: forms.BooleanField(label=label, required=required),
    "date": lambda label, required: forms.DateField(
        label=label, required=required, widget=forms.DateInput(attrs={"type": "date"})
    ),
}


def smart_form_class(form: SmartForm) -> type[forms.Form]:
    fields = {
        spec["name"]: FIELD_TYPES[spec.get("type", "text")](
            spec["label"], spec.get("required", False)
        )
        for spec in form.fields
    }
    return type("SmartFormFill", (forms.Form,), fields)


def _request_for(token: str) -> SmartFormRequest:
    # The client is not logged in: the token alone names the clinic.
    with scopes_disabled():
        found = SmartFormRequest.objects.select_related("form", "client", "clinic").filter(
            token=token
        )
        form_request = found.first()
    if form_request is None:
        raise Http404("This form link is not valid.")
    return form_request


@csrf_protect
def smart_form_fill(request, token: str):
    form_request = _request_for(token)
    with scope(clinic=form_request.clinic):
        if form_request.state == SmartFormRequest.State.COMPLETED:
            return render(request, "clinic/smart_form_done.html", {"form_request": form_request})
        form = smart_form_class(form_request.form)(request.POST or None)
        if request.method == "POST" and form.is_valid():
            responses = {key: str(value) for key, value in form.cleaned_data.items()}
            smart_form_submit(form_request=form_request, responses=responses)
            return render(request, "clinic/smart_form_done.html", {"form_request": form_request})
        context = {"form_request": form_request, "form": form}
        return render(request, "clinic/smart_form_fill.html", context)
