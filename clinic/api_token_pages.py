"""The page where a clinic's admins manage their own API tokens. The API acts with the whole
clinic's data, so only its admins issue tokens; anyone may still revoke a token of their own
(one issued before, or by support's hand), which can only take access away."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic.access import clinic_admin_required, clinic_staff_required
from clinic.api_tokens import api_token_issue, api_token_revoke, api_tokens_of


@never_cache  # the response to an issue carries the token itself
@require_http_methods(["GET", "POST"])
@clinic_admin_required
def api_tokens(request):
    """Lists the user's tokens; a POST issues one and shows it on this response only."""
    issued = None
    if request.method == "POST":
        token, text = api_token_issue(user=request.user, clinic=request.clinic)
        issued = {"token": token, "text": text}
    context = {"tokens": api_tokens_of(request.user), "issued": issued, "now": timezone.now()}
    response = render(request, "clinic/api_tokens.html", context)
    # Never sent on to another site; not "no-referrer", which makes a browser send the form's
    # POST with `Origin: null`, refused as cross-site.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_POST
@clinic_staff_required
def api_token_revoke_view(request, token_key: str):
    if not api_token_revoke(user=request.user, clinic=request.clinic, token_key=token_key):
        raise Http404("You have no API token with that prefix.")
    messages.success(request, f"The API token {token_key}… is revoked: it no longer works.")
    return redirect("api-tokens")
