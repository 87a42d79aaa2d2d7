"""What each ESP's event means for us, read from the raw event as each ESP documents it
(docs/esp-events.md gives the source of every row). The expected answers are the test's own
table, in plain words: a status; the suppression reason when the address is the cause;
"temporary" when the ESP stopped trying after temporary failures; "ours" when the cause is on
the sending side; "opt-out" for an unsubscribe."""

import pytest

from messaging.tracking.mapping import verdict_for

HARD, SPAM, LISTED = "hard_bounce", "spam_complaint", "esp_rejected"
INVALID, UNSUB = "invalid_address", "unsubscribed"


def meaning(verdict) -> tuple:
    """The verdict in the table's words."""
    words = [verdict.status, verdict.suppress]
    words.append({"temporary": "temporary", "sender": "ours"}.get(verdict.cause))
    return (*words, "opt-out" if verdict.opt_out else None)


def expect(status, suppress=None, why=None, opt_out=None) -> tuple:
    return (status, suppress, why, opt_out)


# anymail's event type alone, for an ESP (or a raw event) we do not read more closely.
BY_TYPE = [
    ("queued", expect("processed")),
    ("sent", expect("processed")),
    ("deferred", expect("deferred")),
    ("delivered", expect("delivered")),
    ("opened", expect("opened")),
    ("clicked", expect("clicked")),
    ("bounced", expect("failed", HARD)),
    ("rejected", expect("failed")),
    ("failed", expect("failed")),
    ("complained", expect("spam_report", SPAM)),
    ("unsubscribed", expect(None, opt_out="opt-out")),
    ("subscribed", expect(None)),
    ("unknown", expect(None)),
    ("autoresponded", expect(None)),
    ("inbound", expect(None)),
]


@pytest.mark.parametrize(("event_type", "expected"), BY_TYPE)
def test_an_event_type_alone_gives_its_verdict(event_type, expected):
    assert meaning(verdict_for("smtp", event_type, {})) == expected
    assert meaning(verdict_for("mailgun", event_type, None)) == expected


def failed(severity="permanent", reason=None, **status) -> dict:
    data = {"event": "failed", "severity": severity}
    if reason is not None:
        data["reason"] = reason
    if status:
        data["delivery-status"] = status
    return data


MAILGUN = [
    # (anymail's type, raw event-data, meaning)
    ("queued", {"event": "accepted"}, expect("processed")),
    ("rejected", {"event": "rejected"}, expect("failed", why="ours")),
    ("delivered", {"event": "delivered"}, expect("delivered")),
    ("opened", {"event": "opened"}, expect("opened")),
    ("clicked", {"event": "clicked"}, expect("clicked")),
    ("complained", {"event": "complained"}, expect("spam_report", SPAM)),
    ("unsubscribed", {"event": "unsubscribed"}, expect(None, opt_out="opt-out")),
    # Still trying.
    ("deferred", failed("temporary", "generic"), expect("deferred")),
    ("deferred", failed("temporary", "greylisted"), expect("deferred")),
    ("deferred", failed("temporary", "espblock"), expect("deferred")),
    # Stopped trying after hours of temporary failures ("Too old"), whatever the severity says.
    ("bounced", failed("permanent", "old"), expect("failed", why="temporary")),
    ("deferred", failed("temporary", "old"), expect("failed", why="temporary")),
    # A recipient that does not exist.
    ("bounced", failed("permanent", "bounce", code=550), expect("failed", HARD)),
    (
        "bounced",
        failed("permanent", "bounce", code=550, message="5.1.1 The email account does not exist"),
        expect("failed", HARD),
    ),
    (
        "bounced",
        failed("permanent", "generic", **{"enhanced-code": "5.1.2"}),
        expect("failed", HARD),
    ),
    # The mailbox exists but is full or disabled: Mailgun stopped; the address is kept.
    (
        "bounced",
        failed("permanent", "bounce", message="552 5.2.2 Mailbox full"),
        expect("failed", why="temporary"),
    ),
    # The receiver's policy or a block on our reputation: ours.
    (
        "bounced",
        failed("permanent", "bounce", message="550 5.7.1 Message rejected as spam"),
        expect("failed", why="ours"),
    ),
    ("bounced", failed("permanent", "espblock"), expect("failed", why="ours")),
    ("bounced", failed("permanent", "blacklisted"), expect("failed", why="ours")),
    # Refused: the address is on one of Mailgun's lists.
    ("bounced", failed("permanent", "suppress-bounce"), expect("failed", LISTED)),
    ("bounced", failed("permanent", "suppress-complaint"), expect("failed", LISTED)),
    ("bounced", failed("permanent", "suppress-unsubscribe"), expect("failed", UNSUB)),
    ("bounced", failed("permanent", "hardfail", code=605), expect("failed", LISTED)),
    ("bounced", failed("permanent", "hardfail", code=606), expect("failed", UNSUB)),
    # Unclassified and no code that says more: failed, the address not blamed.
    ("bounced", failed("permanent", "generic"), expect("failed")),
    ("bounced", failed("permanent"), expect("failed")),
]


@pytest.mark.parametrize(("event_type", "data", "expected"), MAILGUN)
def test_mailgun(event_type, data, expected):
    assert meaning(verdict_for("mailgun", event_type, {"event-data": data})) == expected
    # The legacy post carries the event itself, with no `event-data` around it.
    assert meaning(verdict_for("mailgun", event_type, data)) == expected


POSTMARK = [
    # (Postmark's bounce Type, meaning)
    ("HardBounce", expect("failed", HARD)),
    ("BadEmailAddress", expect("failed", INVALID)),
    ("ManuallyDeactivated", expect("failed", LISTED)),
    ("SoftBounce", expect("failed", why="temporary")),
    ("Transient", expect("deferred")),
    ("DnsError", expect("deferred")),
    ("Blocked", expect("failed", why="ours")),
    ("DMARCPolicy", expect("failed", why="ours")),
    ("VirusNotification", expect("failed", why="ours")),
    ("TemplateRenderingFailed", expect("failed", why="ours")),
    ("SMTPApiError", expect("failed", why="ours")),
    ("SpamNotification", expect(None)),  # delivered, then filtered
    ("Unsubscribe", expect(None, opt_out="opt-out")),
    ("Unknown", expect("failed")),
    ("Unconfirmed", expect("failed")),
    ("AutoResponder", expect(None)),
    ("Subscribe", expect(None)),
    ("AddressChange", expect(None)),
    ("OpenRelayTest", expect(None)),
    ("ChallengeVerification", expect(None)),
    ("InboundError", expect(None)),
    ("AnythingNew", expect("failed")),
    ("SpamComplaint", expect("spam_report", SPAM)),  # the older shape of a complaint
]


@pytest.mark.parametrize(("kind", "expected"), POSTMARK)
def test_postmark_bounces(kind, expected):
    raw = {"RecordType": "Bounce", "Type": kind}
    assert meaning(verdict_for("postmark", "bounced", raw)) == expected


def test_a_postmark_hard_bounce_with_a_policy_reply_is_ours():
    raw = {"RecordType": "Bounce", "Type": "HardBounce", "Details": "550 5.7.1 blocked"}
    assert meaning(verdict_for("postmark", "bounced", raw)) == expect("failed", why="ours")


def test_a_postmark_smtp_error_for_an_inactive_recipient_is_its_list():
    raw = {"RecordType": "Bounce", "Type": "SMTPApiError", "Details": "Recipient is inactive"}
    assert meaning(verdict_for("postmark", "bounced", raw)) == expect("failed", LISTED)


@pytest.mark.parametrize(
    ("record", "extra", "expected"),
    [
        ("Delivery", {}, expect("delivered")),
        ("Open", {}, expect("opened")),
        ("Click", {}, expect("clicked")),
        ("SpamComplaint", {}, expect("spam_report", SPAM)),
        (
            "SubscriptionChange",
            {
                "SuppressSending": True,
                "SuppressionReason": "ManualSuppression",
                "Origin": "Recipient",
            },
            expect(None, opt_out="opt-out"),
        ),
        (  # suppressed by the clinic or Postmark's staff, not the recipient
            "SubscriptionChange",
            {
                "SuppressSending": True,
                "SuppressionReason": "ManualSuppression",
                "Origin": "Customer",
            },
            expect(None),
        ),
        (
            "SubscriptionChange",
            {"SuppressSending": True, "SuppressionReason": "HardBounce"},
            expect(None),
        ),
        ("SubscriptionChange", {"SuppressSending": False}, expect(None)),
    ],
)
def test_postmark_records_other_than_bounces(record, extra, expected):
    anymail_type = {"Delivery": "delivered", "Open": "opened", "Click": "clicked"}
    event_type = anymail_type.get(record, "unsubscribed")
    raw = {"RecordType": record, **extra}
    assert meaning(verdict_for("postmark", event_type, raw)) == expected


def ses(kind: str, **parts) -> dict:
    return {"eventType": kind, "mail": {"messageId": "0100018f"}, **parts}


def bounce(kind, sub=None) -> dict:
    return ses("Bounce", bounce={"bounceType": kind, "bounceSubType": sub})


SES = [
    # (anymail's type, raw SES event, meaning)
    ("bounced", bounce("Permanent", "General"), expect("failed", HARD)),
    ("bounced", bounce("Permanent", "NoEmail"), expect("failed", HARD)),
    ("bounced", bounce("Permanent", "Suppressed"), expect("failed", LISTED)),
    ("bounced", bounce("Permanent", "OnAccountSuppressionList"), expect("failed", LISTED)),
    # SES publishes a transient bounce only once it has stopped retrying.
    ("bounced", bounce("Transient", "General"), expect("failed", why="temporary")),
    ("bounced", bounce("Transient", "MailboxFull"), expect("failed", why="temporary")),
    ("bounced", bounce("Transient", "MessageTooLarge"), expect("failed", why="ours")),
    ("bounced", bounce("Transient", "ContentRejected"), expect("failed", why="ours")),
    ("bounced", bounce("Transient", "AttachmentRejected"), expect("failed", why="ours")),
    ("bounced", bounce("Undetermined", "Undetermined"), expect("failed")),
    (
        "unknown",
        ses("DeliveryDelay", deliveryDelay={"delayType": "MailboxFull"}),
        expect("deferred"),
    ),
    ("sent", ses("Send"), expect("processed")),
    ("delivered", ses("Delivery"), expect("delivered")),
    ("complained", ses("Complaint", complaint={}), expect("spam_report", SPAM)),
    (
        "complained",
        ses("Complaint", complaint={"complaintFeedbackType": "abuse"}),
        expect("spam_report", SPAM),
    ),
    ("complained", ses("Complaint", complaint={"complaintFeedbackType": "not-spam"}), expect(None)),
    (
        "complained",
        ses("Complaint", complaint={"complaintFeedbackType": "auth-failure"}),
        expect(None),
    ),
    ("complained", ses("Complaint", complaint={"complaintFeedbackType": "virus"}), expect(None)),
    (
        "complained",
        ses("Complaint", complaint={"complaintSubType": "OnAccountSuppressionList"}),
        expect("failed", LISTED),
    ),
    ("rejected", ses("Reject"), expect("failed", why="ours")),
    ("failed", ses("Rendering Failure"), expect("failed", why="ours")),
    ("opened", ses("Open"), expect("opened")),
    ("clicked", ses("Click"), expect("clicked")),
    ("unknown", ses("Subscription"), expect(None)),
]


@pytest.mark.parametrize(("event_type", "raw", "expected"), SES)
def test_amazon_ses_event_publishing(event_type, raw, expected):
    assert meaning(verdict_for("amazon_ses", event_type, raw)) == expected


@pytest.mark.parametrize(("event_type", "raw", "expected"), SES)
def test_amazon_ses_identity_notifications_read_the_same(event_type, raw, expected):
    """Identity notifications name their kind in `notificationType`."""
    notification = {
        ("notificationType" if key == "eventType" else key): value for key, value in raw.items()
    }
    assert meaning(verdict_for("amazon_ses", event_type, notification)) == expected


def dropped(reason) -> dict:
    return {"event": "dropped", "reason": reason}


SENDGRID = [
    # (anymail's type, raw SendGrid event, meaning)
    ("queued", {"event": "processed"}, expect("processed")),
    ("deferred", {"event": "deferred"}, expect("deferred")),
    ("delivered", {"event": "delivered"}, expect("delivered")),
    ("opened", {"event": "open"}, expect("opened")),
    ("clicked", {"event": "click"}, expect("clicked")),
    ("complained", {"event": "spamreport"}, expect("spam_report", SPAM)),
    ("unsubscribed", {"event": "unsubscribe"}, expect(None, opt_out="opt-out")),
    ("unsubscribed", {"event": "group_unsubscribe"}, expect(None, opt_out="opt-out")),
    ("subscribed", {"event": "group_resubscribe"}, expect(None)),
    ("bounced", {"event": "bounce", "type": "bounce"}, expect("failed", HARD)),
    (
        "bounced",
        {"event": "bounce", "type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 no user"},
        expect("failed", HARD),
    ),
    (
        "bounced",
        {"event": "bounce", "type": "bounce", "status": "5.2.2", "reason": "552 mailbox full"},
        expect("failed", why="temporary"),
    ),
    (
        "bounced",
        {"event": "bounce", "type": "blocked", "status": "4.0.0", "reason": "try later"},
        expect("failed", why="temporary"),
    ),
    (
        "bounced",
        {"event": "bounce", "type": "blocked", "status": "5.7.1", "reason": "550 5.7.1 spam"},
        expect("failed", why="ours"),
    ),
    (
        "bounced",
        {"event": "bounce", "bounce_classification": "Invalid Address"},
        expect("failed", HARD),
    ),
    (
        "bounced",
        {"event": "bounce", "bounce_classification": "Mailbox Unavailable"},
        expect("failed", why="temporary"),
    ),
    (
        "bounced",
        {"event": "bounce", "bounce_classification": "Technical"},
        expect("failed", why="temporary"),
    ),
    (
        "bounced",
        {"event": "bounce", "bounce_classification": "Reputation"},
        expect("failed", why="ours"),
    ),
    (
        "bounced",
        {"event": "bounce", "bounce_classification": "Content"},
        expect("failed", why="ours"),
    ),
    (
        "bounced",
        {"event": "bounce", "bounce_classification": "Frequency/Volume"},
        expect("failed", why="ours"),
    ),
    (
        "bounced",
        {"event": "bounce", "type": "blocked", "bounce_classification": "Invalid Address"},
        expect("failed", why="temporary"),  # a block never suppresses
    ),
    (
        "bounced",
        {"event": "bounce", "type": "blocked", "bounce_classification": "Reputation"},
        expect("failed", why="ours"),
    ),
    (
        "bounced",
        {"event": "bounce", "bounce_classification": "Technical", "status": "5.7.26"},
        expect("failed", why="ours"),  # a DMARC reply is ours, whatever the class
    ),
    ("rejected", dropped("Bounced Address"), expect("failed", LISTED)),
    ("rejected", dropped("Spam Reporting Address"), expect("failed", LISTED)),
    ("rejected", dropped("Unsubscribed Address"), expect("failed", UNSUB)),
    ("rejected", dropped("Invalid"), expect("failed", INVALID)),
    # Our own malformed request is never the patient's address, however it is worded.
    ("rejected", dropped("Invalid SMTPAPI header"), expect("failed", why="ours")),
    ("rejected", dropped("Spam Content"), expect("failed", why="ours")),
    ("rejected", dropped("an Invalid address"), expect("failed", why="ours")),
    ("rejected", {"event": "dropped"}, expect("failed", why="ours")),
    ("rejected", dropped(None), expect("failed", why="ours")),
]


@pytest.mark.parametrize(("event_type", "raw", "expected"), SENDGRID)
def test_sendgrid(event_type, raw, expected):
    assert meaning(verdict_for("sendgrid", event_type, raw)) == expected


def test_an_esp_without_a_reading_of_its_own_gives_the_event_types_verdict():
    raw = {"event": "bounce", "type": "blocked", "RecordType": "Bounce", "Type": "SoftBounce"}
    assert meaning(verdict_for("sparkpost", "bounced", raw)) == expect("failed", HARD)
    assert meaning(verdict_for("sparkpost", "no such type", raw)) == expect(None)


# Where the reading turns on a field the cases above leave out.


def test_mailgun_reads_the_raw_event_whatever_anymail_calls_it():
    assert meaning(verdict_for("mailgun", "unknown", {"event": "unsubscribed"})) == expect(
        None, opt_out="opt-out"
    )
    # A post whose event-data is not an object: anymail's type alone.
    assert meaning(verdict_for("mailgun", "delivered", {"event-data": "x"})) == expect("delivered")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        # Read in this order: enhanced-code, bounce-code, message, description.
        ({"bounce-code": "5.7.1"}, expect("failed", why="ours")),
        ({"description": "5.2.2 The mailbox is full"}, expect("failed", why="temporary")),
        ({"enhanced-code": "5.1.1", "bounce-code": "5.7.1"}, expect("failed", HARD)),
        ({"bounce-code": "5.1.1", "message": "5.7.1 spam"}, expect("failed", HARD)),
        (
            {"message": "5.2.1 disabled", "description": "5.7.1 spam"},
            expect("failed", why="temporary"),
        ),
        # A hardfail whose code is not one of Mailgun's list codes is read like any other.
        ({"code": 550, "enhanced-code": "5.1.1"}, expect("failed", HARD)),
    ],
)
def test_a_mailgun_permanent_failure_is_read_from_each_of_its_codes(status, expected):
    reason = "hardfail" if "code" in status else "generic"
    assert meaning(verdict_for("mailgun", "bounced", failed("permanent", reason, **status))) == (
        expected
    )


def test_a_mailgun_list_code_names_a_list_only_for_a_hardfail():
    data = failed("permanent", "bounce", code=605, message="5.1.1 no such user")
    assert meaning(verdict_for("mailgun", "bounced", data)) == expect("failed", HARD)


def test_an_ses_bounce_or_complaint_without_its_details():
    assert meaning(verdict_for("amazon_ses", "bounced", {"eventType": "Bounce"})) == expect(
        "failed"
    )
    assert meaning(
        verdict_for("amazon_ses", "bounced", {"eventType": "Bounce", "bounce": "x"})
    ) == expect("failed")
    assert meaning(verdict_for("amazon_ses", "complained", {"eventType": "Complaint"})) == (
        expect("spam_report", SPAM)
    )
    assert meaning(
        verdict_for("amazon_ses", "complained", {"eventType": "Complaint", "complaint": []})
    ) == expect("spam_report", SPAM)


@pytest.mark.parametrize("event", ["unsubscribe", "group_unsubscribe"])
def test_sendgrid_reads_the_raw_event_whatever_anymail_calls_it(event):
    assert meaning(verdict_for("sendgrid", "unknown", {"event": event})) == expect(
        None, opt_out="opt-out"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # A block: the policy code may be in the status or only in the receiver's words.
        ({"type": "blocked", "status": "5.7.1", "reason": "refused"}, expect("failed", why="ours")),
        (
            {"type": "blocked", "status": "4.0.0", "reason": "550 5.7.1 listed at a blocklist"},
            expect("failed", why="ours"),
        ),
        (
            {"type": "blocked", "status": "4.0.0", "reason": "421 try later"},
            expect("failed", why="temporary"),
        ),
        # A bounce: likewise.
        (
            {"type": "bounce", "status": "", "reason": "552 5.2.2 mailbox full"},
            expect("failed", why="temporary"),
        ),
        (
            {"type": "bounce", "status": "5.7.1", "reason": "5.1.1 no such user"},
            expect("failed", why="ours"),
        ),
        ({"type": "bounce", "status": "5.0.0", "reason": "5.7.1 spam"}, expect("failed", HARD)),
    ],
)
def test_a_sendgrid_bounce_is_read_from_its_status_then_its_words(raw, expected):
    assert meaning(verdict_for("sendgrid", "bounced", {"event": "bounce", **raw})) == expected


def test_a_change_of_subscription_is_read_from_the_raw_event_too():
    """SES's Subscription event and SendGrid's group resubscribe change no status, whatever
    type anymail gives them."""
    for event_type in ("unsubscribed", "subscribed", "unknown"):
        assert meaning(verdict_for("amazon_ses", event_type, {"eventType": "Subscription"})) == (
            expect(None)
        )
        assert meaning(verdict_for("sendgrid", event_type, {"event": "group_resubscribe"})) == (
            expect(None)
        )
