from csp.constants import NONE, SELF
from csp.decorators import csp
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.access import clinic_admin_required, clinic_staff_required
from clinic.models import Client, SmartFormRequest
from messaging.log.as_sent import email_as_sent, email_attachment
from messaging.log.audit import email_log_viewed
from messaging.log.forms import ResendForm, send_forms_for
from messaging.log.page_context import client_live_context, client_summary_context
from messaging.log.presentation import (
    CAUSE_HELP,
    TRACKING_CAVEAT,
    form_answers,
    status_legend,
)
from messaging.models import OutboundEmail
from messaging.sending.connections import smtp_test_send
from messaging.sending.resend import (
    NotResendable,
    address_at_fault,
    email_resend,
    resend_blocker,
)
from messaging.sending.triggers import (
    direct_message_send,
    invoice_send,
    smart_form_send,
)
from messaging.status import EmailStatus


@require_GET
@clinic_staff_required
def client_summary(request, client_id: int):
    """The client summary: details, appointments, forms, the address's state and the email log."""
    client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
    context = {
        "client": client,
        **client_summary_context(
            client, request.GET.get("page"), email_id=request.GET.get("email")
        ),
    }
    email_log_viewed(actor=request.user, client=client)
    return render(request, "messaging/client_summary.html", context)


@require_GET
@clinic_staff_required
def client_email_log(request, client_id: int):
    """The summary page's live parts, for it to refresh itself: the log, with the address's state
    and consent and the smart forms' states swapped in beside it. Not a new view of the log for
    the audit trail: the person is still reading the page they opened."""
    client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
    return render(
        request,
        "messaging/client_refresh.html",
        client_live_context(client, request.GET.get("page")),
    )


def _send(kind: str, form, client: Client, user):
    data = form.cleaned_data
    if kind == "invoice":
        return invoice_send(invoice=data["invoice"], sent_by=user)
    if kind == "smart_form":
        return smart_form_send(form=data["form"], client=client, sent_by=user)
    return direct_message_send(
        client=client, subject=data["subject"], body=data["body"], sent_by=user
    )


@require_POST
@clinic_staff_required
def client_send(request, client_id: int):
    """Sends one email by hand. A form to correct, or a refused send (an address that cannot be
    mailed, the daily quota), is shown again as it was filled in, so nothing typed is lost."""
    client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
    kind = request.POST.get("kind", "")
    forms = send_forms_for(client, request.POST, kind)
    form = forms.get(kind)
    context = {"client": client, "forms": forms, "kind": kind}
    if form is None or not form.is_valid():
        messages.error(request, "The email was not sent: please correct the form below.")
        return render(request, "messaging/send_page.html", context, status=400)
    email = _send(kind, form, client, request.user)
    if email.refusal:
        why = email.reason  # stored bare: the page says "not sent" itself, once
        refused = {"refusal": why, "refused_kind": email.get_kind_display()}
        if address_at_fault(email) and not resend_blocker(email):  # a saved refusal
            refused["resend_url"] = reverse("email-resend", args=[client.pk, email.pk])
        return render(request, "messaging/send_page.html", {**context, **refused})
    if email.status == EmailStatus.HELD:  # saved, not refused: its log entry says the rest
        messages.warning(
            request,
            f"{email.get_kind_display()} to {client.email} was held, not sent yet. " + email.reason,
        )
        return redirect("client-detail", client_id=client.pk)
    messages.success(request, f"{email.get_kind_display()} to {client.email} is on its way.")
    return redirect("client-detail", client_id=client.pk)


@require_http_methods(["GET", "POST"])
@clinic_staff_required
def email_resend_page(request, client_id: int, email_id):
    """Correct the client's address and resend a failed email, in one step. A refused resend
    (the corrected address is suppressed too, the client opted out, the daily quota) shows the
    refusal in words with the form as it was filled in; nothing was changed."""
    client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
    email = get_object_or_404(
        OutboundEmail.objects.select_related("sent_by"), pk=email_id, client=client
    )
    context = {
        "client": client,
        "email": email,
        "blocker": resend_blocker(email),
        # Where the address is not why it failed, the same email simply goes again to it.
        "correct": address_at_fault(email),
    }
    if request.method == "GET":
        form = ResendForm(initial={"email": client.email}, instance=client)
        return render(request, "messaging/resend_page.html", {**context, "form": form})
    # Validated against a copy: the form writes the address into its instance.
    form = ResendForm(request.POST, instance=Client.objects.get(pk=client.pk))
    if context["blocker"] or (context["correct"] and not form.is_valid()):
        return render(request, "messaging/resend_page.html", {**context, "form": form}, status=400)
    address = form.cleaned_data["email"] if context["correct"] else None
    try:
        outcome = email_resend(email=email, address=address, sent_by=request.user)
    except NotResendable as refusal:
        context["blocker"] = refusal.words
        return render(request, "messaging/resend_page.html", {**context, "form": form}, status=400)
    if outcome.refused:
        why = outcome.email.reason
        return render(
            request, "messaging/resend_page.html", {**context, "form": form, "refusal": why}
        )
    resent = outcome.email
    if resent.status == EmailStatus.HELD:  # saved, not refused: its log entry says the rest
        messages.warning(
            request,
            f"{resent.get_kind_display()} to {resent.to_email} was held, not sent yet. "
            + resent.reason,
        )
    else:
        messages.success(request, f"{resent.get_kind_display()} resent to {resent.to_email}.")
    url = reverse("client-detail", args=[client.pk])
    return redirect(f"{url}?email={resent.pk}#email-{resent.pk}")


@require_POST
@clinic_admin_required
def clinic_smtp_test(request):
    outcome = smtp_test_send(clinic=request.clinic, to=request.user.email)
    accepted = outcome.startswith("The test email was accepted")
    level = messages.SUCCESS if accepted else messages.ERROR
    messages.add_message(request, level, outcome)
    return redirect("clinic-settings")


@require_GET
@clinic_staff_required
def client_email_as_sent(request, client_id: int, email_id):
    """The email as it was sent: headers, text, the HTML in a sandboxed frame, its files."""
    client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
    as_sent = email_as_sent(client=client, email_id=email_id)
    email_log_viewed(actor=request.user, client=client)
    return render(request, "messaging/email_as_sent.html", {"client": client, "as_sent": as_sent})


# The email's own HTML, shown in a sandboxed frame of the page above: no script, no form, nothing
# fetched from elsewhere (a tracking pixel would tell the sender that staff read it), only the
# email's own inline styles, and framed by our own pages only.
EMAIL_HTML_POLICY = {
    "default-src": [NONE],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:"],
    "base-uri": [NONE],
    "form-action": [NONE],
    "frame-ancestors": [SELF],
    "sandbox": [True],
}


@require_GET
@clinic_staff_required
@xframe_options_sameorigin
@csp(EMAIL_HTML_POLICY)
def client_email_html(request, client_id: int, email_id):
    client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
    as_sent = email_as_sent(client=client, email_id=email_id)
    return HttpResponse(as_sent.body_html, content_type="text/html; charset=utf-8")


@require_GET
@clinic_staff_required
def client_email_attachment(request, client_id: int, email_id, attachment_id: int):
    """A file the email carried, as it was sent, downloaded (never shown inline)."""
    client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
    attachment = email_attachment(client=client, email_id=email_id, attachment_id=attachment_id)
    response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.filename)
    return response


@require_GET
@clinic_staff_required
def email_status_legend(request):
    """What each status of the log means and what to do, in the log's own words."""
    context = {"statuses": status_legend(), "causes": CAUSE_HELP, "caveat": TRACKING_CAVEAT}
    return render(request, "messaging/status_legend.html", context)


@require_GET
@clinic_staff_required
def client_form_answers(request, client_id: int, form_request_id: int):
    """A smart form's answers as the client gave them, in the form's order."""
    client = get_object_or_404(Client.objects.select_related("clinic"), pk=client_id)
    form_request = get_object_or_404(
        SmartFormRequest.objects.select_related("form"), client=client, pk=form_request_id
    )
    email_log_viewed(actor=request.user, client=client)
    context = {
        "client": client,
        "form_request": form_request,
        "answers": form_answers(form_request),
        "retention_days": settings.SMART_FORM_ANSWERS_RETENTION_DAYS,
    }
    return render(request, "messaging/form_answers.html", context)
