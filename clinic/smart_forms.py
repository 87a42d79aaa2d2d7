"""The public smart-form page: a client answers a form through the personal link the clinic
emailed. The link is the only key, so it works for SMART_FORM_LINK_DAYS and then shows nothing
of the client; no answer of the form is ever shown back, and no response is cached."""

from datetime import timedelta
from functools import wraps

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
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


def smart_form_link_expires_at(form_request: SmartFormRequest):
    return form_request.created_at + timedelta(days=settings.SMART_FORM_LINK_DAYS)


def smart_form_url(form_request: SmartFormRequest) -> str:
    """The personal link a smart form's email carries, on the site's public address: one place,
    so the send, a resend and the demo all give the client the link the page answers."""
    return settings.SITE_URL.rstrip("/") + reverse("smart-form-fill", args=[form_request.token])


def smart_form_link_expired(form_request: SmartFormRequest) -> bool:
    """A link still waiting for its answers stops working SMART_FORM_LINK_DAYS after it was
    sent: an old email, forwarded or found later, must not show the client's name."""
    return (
        form_request.state == SmartFormRequest.State.PENDING
        and timezone.now() >= smart_form_link_expires_at(form_request)
    )


def _request_for(token: str) -> SmartFormRequest | None:
    # The client is not logged in: the token alone names the clinic.
    with scopes_disabled():
        found = SmartFormRequest.objects.select_related("form", "client", "clinic").filter(
            token=token
        )
        return found.first()


def private_page(view):
    """The form pages carry a client's name and answers: never kept by a browser or proxy cache,
    and the link (the key) is never sent on to another site as a Referer."""

    @never_cache
    @wraps(view)
    def guarded(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        # Not "no-referrer": with it a browser posts the form with `Origin: null`, which CSRF
        # protection refuses as cross-site. "same-origin" keeps the link from other sites.
        response["Referrer-Policy"] = "same-origin"
        return response

    return guarded


@private_page
@csrf_protect
def smart_form_fill(request, token: str):
    form_request = _request_for(token)
    if form_request is None:
        return _link_not_valid(request)
    if smart_form_link_expired(form_request):
        context = {
            "clinic": form_request.clinic,
            "clinic_name": form_request.clinic.name,
            "expired": True,
        }
        return render(request, "clinic/smart_form_link.html", context, status=410)
    with scope(clinic=form_request.clinic):
        if form_request.state == SmartFormRequest.State.COMPLETED:
            return _done(request, form_request)
        form = smart_form_class(form_request.form)(request.POST or None)
        if request.method == "POST" and form.is_valid():
            responses = {key: str(value) for key, value in form.cleaned_data.items()}
            smart_form_submit(form_request=form_request, responses=responses)
            return _done(request, form_request)
        context = {"form_request": form_request, "form": form, "clinic": form_request.clinic}
        return render(request, "clinic/smart_form_fill.html", context)


@private_page
def smart_form_link_broken(request):
    """A form link cut short or run on by a mail program (`/forms/`, `/forms/<token>/more`):
    the same page as an unknown link, rendered here so that with DEBUG on the client never
    meets Django's technical 404 page, which lists the site's URLs."""
    return _link_not_valid(request)


def _link_not_valid(request):
    """A link that names no form request: a plain page in words, with no clinic named (it is not
    known) and, since no Http404 is raised, never Django's technical 404 page."""
    context = {"clinic": None, "expired": False}
    return render(request, "clinic/smart_form_link.html", context, status=404)


def _done(request, form_request: SmartFormRequest):
    """Sent: the page names the clinic only, never the form's answers."""
    context = {"clinic": form_request.clinic, "clinic_name": form_request.clinic.name}
    return render(request, "clinic/smart_form_done.html", context)
