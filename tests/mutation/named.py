"""Named mutants: deliberate bugs of the kind the suite once let through, each of which a named
test must now catch (docs/testing.md). Each is put into a copy of the checkout, never into the
checkout itself, and its tests are run there; first the same tests run on an unchanged copy, the
control that shows they pass without the bug.

    python -m tests.mutation.named [NAME ...]

Needs DATABASE_URL (and Redis, for the one run by a real worker), as the suite does.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPIED_WITHOUT = shutil.ignore_patterns(
    ".git", ".venv", "mutants", ".postgres", ".celery", ".hypothesis", "__pycache__", "*.pyc"
)


@dataclass(frozen=True)
class Mutant:
    name: str
    bug: str
    path: str
    before: str
    after: str
    tests: tuple[str, ...]  # pytest's arguments: the tests that must catch it


MUTANTS = [
    Mutant(
        "ses-send-ignored",
        "The SES Send event changes no status; the fixture helper's pre-set `processed` hid it.",
        "messaging/tracking/mapping.py",
        '    if kind == "DeliveryDelay":\n',
        '    if kind == "Send":\n        return NOTHING\n    if kind == "DeliveryDelay":\n',
        (
            "tests/tracking/test_esp_fixtures.py::test_each_event_gives_its_status_and_consequence",
            "-k",
            "amazon_ses-send-",
        ),
    ),
    Mutant(
        "retention-purges-every-event",
        "Retention deletes every event, recent ones included.",
        "messaging/log/retention.py",
        "EmailEvent.objects.filter(received_at__lt=before),",
        "EmailEvent.objects.all(),",
        (
            "tests/tracking/test_stuck_and_retention.py::"
            "test_retention_deletes_old_emails_and_events_only",
        ),
    ),
    Mutant(
        "retention-purges-every-notification",
        "Retention deletes every notification, recent ones included.",
        "messaging/log/retention.py",
        "Notification.objects.filter(created_at__lt=before)",
        "Notification.objects.all()",
        (
            "tests/test_retention_every_table.py::"
            "test_notifications_older_than_their_period_go_and_recent_ones_stay",
        ),
    ),
    Mutant(
        "retention-purges-every-audit-entry",
        "Retention deletes the whole audit trail, recent entries included.",
        "messaging/log/retention.py",
        "AuditEntry.objects.filter(at__lt=before)",
        "AuditEntry.objects.all()",
        (
            "tests/test_retention_every_table.py::"
            "test_audit_entries_are_kept_longest_and_go_after_their_period",
        ),
    ),
    Mutant(
        "retention-clears-active-suppressions",
        "Retention empties the evidence of active suppressions too.",
        "messaging/log/retention.py",
        "Suppression.objects.filter(active=False)",
        "Suppression.objects.all()",
        (
            "tests/test_retention_every_table.py::"
            "test_suppression_evidence_is_emptied_once_lifted_for_its_period_and_kept_while_active",
        ),
    ),
    Mutant(
        "tracking-switch-ignored",
        "A clinic that switched tracking off still sends with the ESP's tracking on.",
        "messaging/sending/delivery.py",
        "        if not email.engagement_tracked:\n",
        "        if False:\n",
        (
            "tests/sending/test_what_esps_receive.py::"
            "test_a_clinic_with_tracking_off_sends_with_the_esps_tracking_off",
        ),
    ),
    Mutant(
        "naive-dst-reminder",
        "A reminder is due at `start - lead` in elapsed hours, not on the clinic's wall clock.",
        "messaging/sending/policy.py",
        '    return (local_start - lead).astimezone(ZoneInfo("UTC"))',
        "    return start - lead",
        (
            "tests/sending/test_send_policy.py::"
            "test_a_reminder_keeps_the_wall_clock_time_across_each_change_of_each_zone",
            "tests/sending/test_send_policy.py::"
            "test_a_reminder_spanning_a_change_keeps_the_wall_clock_lead",
        ),
    ),
    Mutant(
        "london-in-the-reminder-selector",
        "Reminders are timed on London's clock, whatever the clinic's zone.",
        "messaging/sending/selectors.py",
        "time_zone=appointment.clinic.time_zone",
        'time_zone="Europe/London"',
        (
            "tests/sending/test_appointment_mail.py::"
            "test_each_clinics_reminder_is_due_on_its_own_wall_clock",
        ),
    ),
    Mutant(
        "london-in-the-renderer",
        "Emails show times on London's clock, whatever the clinic's zone.",
        "messaging/sending/rendering.py",
        "with timezone.override(clinic.tzinfo):",
        'with timezone.override("Europe/London"):',
        ("tests/sending/test_rendering.py::test_each_clinic_shows_times_on_its_own_wall_clock",),
    ),
    Mutant(
        "refused-email-still-queued",
        "An email refused on screen (suppressed address) is handed to the broker all the same.",
        "messaging/sending/outbox.py",
        "pending = [email for email in emails if email.status == EmailStatus.SENDING]",
        "pending = list(emails)",
        (
            "tests/pages/test_send_forms.py::"
            "test_a_suppressed_address_is_refused_on_screen_and_nothing_is_queued",
            "tests/pages/test_api.py::test_post_to_a_suppressed_address_is_409_with_the_reason",
        ),
    ),
    Mutant(
        "latest-event-wins-in-a-drain",
        "Of several events of one email in one drain, the last applied wins, not the highest.",
        "messaging/tracking/apply.py",
        "if current is None or STATUS_RANK[event.status] > STATUS_RANK[current.status]:",
        "if True:",
        (
            "tests/tracking/test_status_property.py::"
            "test_every_esp_in_any_order_and_grouping_gives_one_status_and_one_consequence",
        ),
    ),
    Mutant(
        "unscoped-notifications",
        "A clinic-owned model (Notification) loses its scoped manager.",
        "notifications/models.py",
        '    objects = ScopedManager(clinic="clinic")',
        "    objects = models.Manager()",
        (
            "tests/test_every_model_scoped.py::"
            "test_a_clinic_owned_model_is_read_only_in_its_clinics_scope",
            "-k",
            "Notification",
        ),
    ),
    Mutant(
        "sweep-ignores-the-retry-wait",
        "The outbox sweep re-sends an email that is waiting for its retry.",
        "messaging/sending/selectors.py",
        "        .exclude(next_attempt_at__gt=now - older_than)\n",
        "",
        (
            "tests/sending/test_outbox_sweeper.py::"
            "test_the_sweeper_leaves_fresh_and_retrying_emails_alone",
        ),
    ),
    Mutant(
        "encoded-from-name",
        "The From name is RFC 2047-encoded before anymail sees it (SendGrid shows the code).",
        "messaging/sending/connections.py",
        "    return str(\n        Address(display_name=clinic.from_name or clinic.name, "
        "addr_spec=address or platform_address)\n    )",
        "    from email.utils import formataddr\n\n"
        "    return formataddr((clinic.from_name or clinic.name, address or platform_address))",
        (
            "tests/sending/test_every_esp.py::test_each_esp_sends_it_and_its_webhook_says_delivered",
            "-k",
            "sendgrid",
        ),
    ),
    Mutant(
        "ses-error-read-as-http",
        "Amazon SES's error is read as an HTTP response: classifying it crashes.",
        "messaging/sending/policy.py",
        "    if isinstance(response, dict):  # Amazon SES: botocore's parsed error, not an HTTP "
        "response\n",
        "    if False:\n",
        ("tests/sending/test_every_esp.py::test_each_esps_refusal_is_classified_with_its_words",),
    ),
    Mutant(
        "retry-without-the-unknown-outcome-wait",
        "After a timeout the retry does not wait for the ESP's events: a double send.",
        "messaging/sending/delivery.py",
        "delay = max(delay, settings.SEND_UNKNOWN_OUTCOME_WAIT_SECONDS)",
        "delay = delay",
        (
            "tests/integration/test_send_retries.py::"
            "test_a_timed_out_send_the_esp_accepted_is_not_sent_again",
        ),
    ),
    Mutant(
        "utc-clinic-pages",
        "Clinic pages show UTC: the request never enters the clinic's time zone.",
        "clinic/middleware.py",
        "    return clinic.tzinfo if clinic else None",
        "    return None",
        (
            "tests/pages/test_time_zones.py::test_the_client_page_reads_the_clinics_clock",
            "tests/pages/test_time_zones.py::test_the_api_tokens_page_reads_the_clinics_clock",
        ),
    ),
    Mutant(
        "utc-notifications",
        "A notification rendered by a worker tells the time on the worker's clock (UTC).",
        "notifications/rendering.py",
        "    with timezone.override(clinic.tzinfo) if clinic else nullcontext():",
        "    with nullcontext():",
        (
            "tests/test_notification_texts.py::"
            "test_a_stuck_email_is_timed_on_the_clinics_clock_with_its_zone",
            "tests/pages/test_time_zones.py::test_a_notification_names_the_clinics_clock",
        ),
    ),
    Mutant(
        "djangos-abbreviation",
        'Django\'s own "T", which is blank in the hour a clock goes back.',
        "clinic/time_zones.py",
        '    return f"{date_format(local, format_string)} {local.tzname()}"',
        '    return date_format(local, f"{format_string} T")',
        (
            "tests/test_notification_texts.py::"
            "test_a_stuck_email_is_timed_on_the_clinics_clock_with_its_zone",
        ),
    ),
    Mutant(
        "admin-on-a-members-clock",
        "Admin rendered in the zone of a clinic the support person also belongs to.",
        "clinic/admin_site.py",
        "            with scopes_disabled(), timezone.override(None):",
        "            with scopes_disabled():",
        (
            "tests/pages/test_time_zones.py::"
            "test_support_with_a_clinic_of_their_own_still_reads_admin_in_utc",
        ),
    ),
    Mutant(
        "no-reply-to",
        "Emails go without a Reply-To: a client's answer reaches the platform, not the clinic.",
        "messaging/sending/delivery.py",
        "        reply_to=reply_to(clinic),\n",
        "",
        (
            "tests/sending/test_reply_to.py::"
            "test_each_esp_is_asked_to_send_with_the_clinics_reply_to",
        ),
    ),
    Mutant(
        "greeting-added",
        'A greeting nobody typed is put above a direct message, so "Hi Nina," arrives doubled.',
        "templates/emails/direct_message-body.txt",
        "{{ body }}\n",
        "Hello {{ client.name }},\n\n{{ body }}\n",
        ("tests/sending/test_direct_message_as_typed.py::test_hi_nina_arrives_once",),
    ),
    Mutant(
        "smtp-test-to-no-server",
        '"Send test email" with no server saved connects to an empty host name.',
        "messaging/sending/connections.py",
        "    if not clinic.smtp_host.strip():\n        return NO_SMTP_SERVER_WORDS\n",
        "",
        (
            "tests/pages/test_sender_settings.py::"
            "test_the_smtp_test_with_no_server_set_says_to_set_one_first",
        ),
    ),
    Mutant(
        "refused-send-forgets-the-message",
        "A refused send goes back to the client's page: the subject and message typed are lost.",
        "messaging/log/views.py",
        '        return render(request, "messaging/send_page.html", {**context, **refused})\n',
        "        messages.error(request, email.reason)\n"
        '        return redirect("client-detail", client_id=client.pk)\n',
        (
            "tests/pages/test_send_refused.py::"
            "test_a_message_to_a_bounced_address_is_refused_and_kept_as_typed",
        ),
    ),
    Mutant(
        "guard-holds-own-smtp",
        "A clinic on its own SMTP server is held: its own server risks only its own name.",
        "messaging/reputation/guard.py",
        "    if clinic.uses_own_smtp:\n        return False\n",
        "",
        (
            "tests/reputation/test_guard.py::"
            "test_a_clinic_on_its_own_smtp_server_is_warned_never_held",
        ),
    ),
    Mutant(
        "guard-holds-addresses-reached-before",
        "A hold stops mail to clients the clinic's mail has reached before, too.",
        "messaging/reputation/guard.py",
        "            .exclude(Exists(delivered))\n",
        "",
        (
            "tests/reputation/test_guard.py::"
            "test_mail_to_an_address_reached_before_goes_out_and_a_new_one_is_held",
        ),
    ),
    Mutant(
        "guard-rehold-after-release",
        "A release is undone a minute later by the very figures support released it on.",
        "messaging/reputation/guard.py",
        "        hold_from = max(first_day, _today(clinic, released_at) + timedelta(days=1))\n",
        "        hold_from = first_day\n",
        (
            "tests/reputation/test_guard.py::"
            "test_the_same_figures_do_not_hold_again_after_a_release_but_new_ones_do",
        ),
    ),
    Mutant(
        "guard-quota-counts-held",
        "Held emails count towards the daily quota, so a hold soon stops every send by hand.",
        "messaging/sending/triggers.py",
        "        .exclude(status=EmailStatus.HELD)\n",
        "",
        (
            "tests/reputation/test_guard.py::"
            "test_held_emails_are_outside_the_quota_the_sweeper_and_the_stuck_flag",
        ),
    ),
    Mutant(
        "guard-release-sends-old-emails",
        "A release sends held emails however old, an appointment's days past.",
        "messaging/reputation/guard.py",
        "    too_old = now - timedelta(days=settings.HELD_EMAIL_MAX_DAYS)\n    words",
        "    too_old = now - timedelta(days=3650)\n    words",
        (
            "tests/reputation/test_guard.py::"
            "test_a_release_sends_fresh_held_emails_once_and_fails_old_ones_with_words",
        ),
    ),
]


def copy_of_the_checkout(into: Path) -> Path:
    copy = into / "checkout"
    shutil.copytree(ROOT, copy, ignore=COPIED_WITHOUT, symlinks=True)
    return copy


def pytest_in(copy: Path, tests: tuple[str, ...]) -> int:
    """Runs the tests in the copy: its packages come first on sys.path."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    return subprocess.run(
        command, cwd=copy, env=os.environ, stdout=subprocess.DEVNULL, check=False
    ).returncode


def verdict(mutant: Mutant) -> str:
    with tempfile.TemporaryDirectory(prefix="named-mutant-") as scratch:
        copy = copy_of_the_checkout(Path(scratch))
        if pytest_in(copy, mutant.tests) != 0:
            return "CONTROL FAILED (the tests fail without the bug)"
        source = copy / mutant.path
        text = source.read_text()
        if text.count(mutant.before) != 1:
            return "DOES NOT APPLY (the code changed: update the mutant)"
        source.write_text(text.replace(mutant.before, mutant.after))
        code = pytest_in(copy, mutant.tests)
    return {0: "SURVIVED", 1: "killed"}.get(code, f"ERROR (pytest exit {code})")


def main(names: list[str]) -> int:
    chosen = [mutant for mutant in MUTANTS if not names or mutant.name in names]
    failures = 0
    for mutant in chosen:
        outcome = verdict(mutant)
        failures += outcome != "killed"
        print(f"{mutant.name:40} {outcome}\n    {mutant.bug}\n    by {' '.join(mutant.tests)}")
    print(f"{len(chosen) - failures} of {len(chosen)} named mutants killed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
