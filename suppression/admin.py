from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django_scopes import scope

from clinic.admin import ClientAdmin as ClinicClientAdmin
from clinic.models import Client
from clinic.time_zones import clock_time
from suppression.forms import ReactivationForm
from suppression.models import ReactivationAsk, RemovalRequest, Suppression, SuppressionHistory
from suppression.removal_requests import removal_request_decide
from suppression.services import (
    ClientRequest,
    Refused,
    client_opt_out_by_support,
    reactivation_ask_decline,
    suppression_reactivate,
)
from suppression.tasks import esp_removal_task


class HistoryInline(admin.TabularInline):
    model = SuppressionHistory
    fields = ["at", "actor", "action", "why", "evidence"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RemovalRequestInline(admin.TabularInline):
    model = RemovalRequest
    fields = ["received_at", "from_address", "subject", "verified", "spf", "dkim", "state"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReactivationAskInline(admin.TabularInline):
    """Clinics' asks to reactivate the address: answered by reactivating it here, or by
    declining on the ask's own page."""

    model = ReactivationAsk
    fields = ["asked_at", "clinic", "client_name", "asked_by", "note", "state", "answer"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "ask from a clinic"
    verbose_name_plural = "asks from clinics to reactivate"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _client_request(form: ReactivationForm) -> ClientRequest | None:
    """The client's request as support took it (by phone, in person or by letter): no From
    address, which only an emailed request has and which goes through its removal request."""
    data = form.cleaned_data
    if not (data["request_channel"] or data["request_reference"]):
        return None
    return ClientRequest(
        received_on=data["request_received_on"],
        channel=data["request_channel"],
        reference=data["request_reference"],
        from_address="",
    )


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = [
        "address",
        "stream",
        "reason",
        "active",
        "times_seen",
        "last_seen",
        "esp_removal",
    ]
    list_filter = ["reason", "stream", "active", "first_seen", "last_seen", "esp_removal"]
    search_fields = ["address"]
    readonly_fields = [
        "address",
        "stream",
        "reason",
        "diagnostic",
        "first_seen",
        "last_seen",
        "times_seen",
        "active",
        "esp_removal",
        "esp_removal_attempts",
        "esp_removal_error",
        "source_email_id",
        "source_event_id",
        "recurrence_warning",
        "clients_with_this_address",
        "events_behind_it",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "recurrence_warning",
                    "address",
                    "stream",
                    "reason",
                    "diagnostic",
                    "active",
                    "times_seen",
                    "first_seen",
                    "last_seen",
                ]
            },
        ),
        (
            "Removal at the ESP",
            {"fields": ["esp_removal", "esp_removal_attempts", "esp_removal_error"]},
        ),
        (
            "Evidence",
            {
                "fields": [
                    "source_email_id",
                    "source_event_id",
                    "events_behind_it",
                    "clients_with_this_address",
                ]
            },
        ),
    ]
    inlines = [ReactivationAskInline, HistoryInline, RemovalRequestInline]
    actions = ["reactivate", "retry_esp_removal"]
    change_form_template = "admin/suppression/suppression/change_form.html"

    def get_urls(self):
        reactivate = path(
            "<path:object_id>/reactivate/",
            self.admin_site.admin_view(self.reactivate_view),
            name="suppression_suppression_reactivate",
        )
        return [reactivate, *super().get_urls()]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its history is the audit trail: reactivate instead

    def get_search_results(self, request, queryset, search_term):
        """Also finds an address by the name of a client who has it, or of their clinic."""
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        if search_term:
            addresses = Client.objects.filter(
                Q(name__icontains=search_term) | Q(clinic__name__icontains=search_term)
            ).values("email")
            queryset |= self.model.objects.filter(address__in=addresses)
        return queryset, distinct

    @admin.display(description="Warning")
    def recurrence_warning(self, obj: Suppression) -> str:
        reactivated = obj.history.filter(action="reactivated").order_by("-at").first()
        if obj.active and reactivated:
            return format_html(
                "<strong>This address was reactivated on {} ({}) and has been suppressed again: "
                "the cause may recur.</strong>",
                reactivated.at.strftime("%d %b %Y"),
                reactivated.why,
            )
        return "—"

    @admin.display(description="Clients with this address (every clinic)")
    def clients_with_this_address(self, obj: Suppression) -> str:
        clients = Client.objects.filter(email=obj.address).select_related("clinic")
        rows = [
            (
                reverse("admin:clinic_client_change", args=[c.pk]),
                c.name,
                c.clinic.name,
                "opted out" if not c.appointment_comms else "receives appointment emails",
            )
            for c in clients
        ]
        return format_html_join("", '<p><a href="{}">{}</a>, {} ({})</p>', rows) or "None"

    @admin.display(description="Events behind it")
    def events_behind_it(self, obj: Suppression) -> str:
        from django.apps import apps

        event_model = apps.get_model("messaging", "EmailEvent")
        events = (
            event_model.objects.filter(recipient=obj.address, esp=obj.stream)
            .exclude(suppress="")
            .order_by("-occurred_at")[:20]
        )
        rows = [
            (
                reverse("admin:messaging_emailevent_change", args=[e.pk]),
                clock_time(e.occurred_at, "UTC") or "?",
                e.event_type,
                e.words,
            )
            for e in events
        ]
        return format_html_join("", '<p><a href="{}">{}</a> {}: {}</p>', rows) or "None"

    @admin.action(description="Reactivate the selected addresses")
    def reactivate(self, request, queryset):
        form = ReactivationForm(request.POST if "apply" in request.POST else None)
        refused = self._reactivate_all(request, list(queryset), form) if form.is_valid() else None
        if refused == []:
            return None
        return self._reactivation_page(request, form, refused or list(queryset), as_action=True)

    def reactivate_view(self, request, object_id):
        """The Reactivate button of a suppression's own page."""
        suppression = get_object_or_404(Suppression, pk=object_id)
        if not suppression.active:
            self.message_user(request, f"Not suppressed: {suppression.address}.", messages.INFO)
            return redirect("admin:suppression_suppression_change", suppression.pk)
        form = ReactivationForm(request.POST if request.method == "POST" else None)
        if form.is_valid() and self._reactivate_all(request, [suppression], form) == []:
            return redirect("admin:suppression_suppression_change", suppression.pk)
        return self._reactivation_page(request, form, [suppression], as_action=False)

    def _reactivate_all(
        self, request, suppressions: list[Suppression], form: ReactivationForm
    ) -> list[Suppression]:
        """Reactivates each address, and returns those refused, each refusal added to the form
        so that it is shown above what support entered, which stays as entered."""
        refused = []
        for suppression in suppressions:
            try:
                suppression_reactivate(
                    suppression=suppression,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    client_request=_client_request(form),
                )
            except Refused as refusal:
                # A form error, not a message: admin capitalises messages, and an address
                # starts this one.
                form.add_error(None, f"Not reactivated: {suppression.address}. {refusal}")
                refused.append(suppression)
            else:
                self.message_user(
                    request,
                    f"Reactivated {suppression.address}; removal at the ESP is under way. "
                    "The clinic opts the client back in on the client's page.",
                    messages.SUCCESS,
                )
        return refused

    def _reactivation_page(self, request, form, suppressions, *, as_action: bool):
        context = {
            **self.admin_site.each_context(request),
            "title": "Reactivate suppressed addresses" if as_action else "Reactivate address",
            "suppressions": suppressions,
            "form": form,
            "as_action": as_action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
            "original": suppressions[0] if not as_action else None,
            "support_email": settings.SUPPORT_EMAIL,
            "removal_requests_url": reverse("admin:suppression_removalrequest_changelist"),
        }
        return TemplateResponse(request, "admin/suppression/reactivate.html", context)

    @admin.action(description="Retry the removal at the ESP now")
    def retry_esp_removal(self, request, queryset):
        for suppression in queryset.filter(esp_removal="pending"):
            esp_removal_task.delay(suppression.pk)
        self.message_user(request, "Retries queued.")


@admin.register(RemovalRequest)
class RemovalRequestAdmin(admin.ModelAdmin):
    """Support decides removal requests here, and only here: nothing else edits one. A request
    the ESP's own checks do not show the client sent cannot be approved, and says why."""

    list_display = [
        "received_at",
        "from_address",
        "subject",
        "esp",
        "verified",
        "spf",
        "dkim",
        "dmarc",
        "state",
        "verification",
    ]
    list_filter = ["state", "verified", "esp"]
    search_fields = ["from_address", "subject"]
    fields = [
        "can_it_be_approved",
        "suppression",
        "received_at",
        "from_address",
        "subject",
        "text",
        "message_id",
        "esp",
        "verified",
        "verification",
        "spf",
        "dkim",
        "dmarc",
        "state",
        "decided_by",
        "decided_at",
    ]
    readonly_fields = fields
    actions = ["approve", "decline"]
    change_form_template = "admin/suppression/removalrequest/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # decided with the actions or the buttons, never by editing its fields

    def get_urls(self):
        decide = path(
            "<path:object_id>/decide/",
            self.admin_site.admin_view(self.decide_view),
            name="suppression_removalrequest_decide",
        )
        return [decide, *super().get_urls()]

    @admin.display(description="Can it be approved?")
    def can_it_be_approved(self, obj: RemovalRequest) -> str:
        if obj.state != RemovalRequest.State.PENDING:
            return f"Already decided: {obj.get_state_display()}."
        if not obj.verified:
            return format_html("<strong>No.</strong> {}", obj.verification)
        return format_html("Yes: {}", obj.verification)

    def _decide(self, request, removal_request: RemovalRequest, approve: bool) -> None:
        try:
            removal_request_decide(request=removal_request, actor=request.user, approve=approve)
        except Refused as refusal:
            self.message_user(request, f"{removal_request}: {refusal}", messages.ERROR)
        else:
            done = "approved: address reactivated" if approve else "declined"
            self.message_user(request, f"{removal_request}: {done}.", messages.SUCCESS)

    @admin.action(description="Approve: reactivate the address")
    def approve(self, request, queryset):
        for removal_request in queryset:
            self._decide(request, removal_request, approve=True)

    @admin.action(description="Decline")
    def decline(self, request, queryset):
        for removal_request in queryset:
            self._decide(request, removal_request, approve=False)

    def decide_view(self, request, object_id):
        """The Approve and Decline buttons of a request's page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        removal_request = get_object_or_404(RemovalRequest, pk=object_id)
        self._decide(request, removal_request, approve="approve" in request.POST)
        return redirect("admin:suppression_removalrequest_change", removal_request.pk)


@admin.register(ReactivationAsk)
class ReactivationAskAdmin(admin.ModelAdmin):
    """Clinic staff's asks to reactivate an address. Support answers one by reactivating the
    address through its reactivation form (which closes every open ask for it and tells each
    asker), or by declining it here with an answer the asker reads."""

    list_display = ["asked_at", "address", "client_name", "clinic", "asked_by", "state"]
    list_filter = ["state", "clinic", "suppression__reason", "asked_at"]
    search_fields = ["suppression__address", "client_name", "clinic__name"]
    list_select_related = ["suppression", "clinic", "asked_by"]
    fields = [
        "address",
        "suppression_link",
        "clinic",
        "client_name",
        "asked_by",
        "asked_at",
        "note",
        "state",
        "answered_by",
        "answered_at",
        "answer",
    ]
    readonly_fields = fields
    change_form_template = "admin/suppression/reactivationask/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # answered with the reactivation form or the decline button only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        decline = path(
            "<path:object_id>/decline/",
            self.admin_site.admin_view(self.decline_view),
            name="suppression_reactivationask_decline",
        )
        return [decline, *super().get_urls()]

    @admin.display(description="Address", ordering="suppression__address")
    def address(self, obj: ReactivationAsk) -> str:
        return obj.suppression.address

    @admin.display(description="Suppression")
    def suppression_link(self, obj: ReactivationAsk) -> str:
        suppression = obj.suppression
        return format_html(
            '<a href="{}">{} on {} ({}, {})</a>',
            reverse("admin:suppression_suppression_change", args=[suppression.pk]),
            suppression.address,
            suppression.stream or "no stream",
            suppression.get_reason_display(),
            "active" if suppression.active else "reactivated",
        )

    def decline_view(self, request, object_id):
        """The Decline button of an ask's page: the answer is required, and the asker reads it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        ask = get_object_or_404(ReactivationAsk, pk=object_id)
        try:
            reactivation_ask_decline(
                ask=ask, actor=request.user, answer=request.POST.get("answer", "")
            )
        except Refused as refusal:
            self.message_user(request, f"Not declined: {refusal}", messages.ERROR)
        else:
            self.message_user(
                request, f"Declined; {ask.asked_by or 'the clinic'} is told your answer."
            )
        return redirect("admin:suppression_reactivationask_change", ask.pk)


# Support unticking a client's appointment emails is an opt-out like any other: the client's
# practitioners and the clinic's admins are told that no reminder will go out. clinic/ imports
# nothing of suppression, so its Client admin is extended here, and this one is registered.
admin.site.unregister(Client)


@admin.register(Client)
class ClientConsentAdmin(ClinicClientAdmin):
    def save_model(self, request, obj, form, change) -> None:
        opting_out = (
            change and "appointment_comms" in form.changed_data and not obj.appointment_comms
        )
        if not opting_out:
            super().save_model(request, obj, form, change)
            return
        typed = (
            obj.appointment_comms_reason if "appointment_comms_reason" in form.changed_data else ""
        )
        obj.appointment_comms = True  # the opt-out service makes the change, dated, with its reason
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            with scope(clinic=obj.clinic_id):
                told = client_opt_out_by_support(client=obj, reason=typed.strip())
        self.message_user(
            request,
            f"{obj.name} is opted out of appointment emails. "
            + (
                f"{told} notification(s) tell the clinic that no reminder will go out."
                if told
                else "They have no upcoming appointments, so nobody needed telling."
            ),
            messages.INFO,
        )
