"""Open and click tracking, per clinic: whether an email is tracked is decided when it is saved
(`OutboundEmail.engagement_tracked`), and its message asks the ESP accordingly.

Mailgun, Postmark and SendGrid take anymail's `track_opens` and `track_clicks` (Mailgun
`o:tracking-opens`/`o:tracking-clicks`, Postmark `TrackOpens`/`TrackLinks`, SendGrid
`tracking_settings`). anymail has no such switch for Amazon SES, whose tracking otherwise follows
the account's and the configuration set's settings; SES v2's SendEmail takes a per-message
override, `ConfigurationOverrides.Tracking`, passed through anymail's `esp_extra`."""

from copy import deepcopy

from anymail.message import AnymailMessage

from clinic.models import Clinic
from suppression.streams import SMTP

AMAZON_SES = "amazon_ses"
# SES v2 SendEmail: "DISABLED – Amazon SES doesn't track opens [clicks] for this message, even
# when your account-level or configuration set settings enable open [click] tracking."
SES_TRACKING_OFF = {
    "ConfigurationOverrides": {
        "Tracking": {"OpenTrackingEnabled": "DISABLED", "ClickTrackingEnabled": "DISABLED"}
    }
}


def engagement_tracked_for(clinic: Clinic, stream: str) -> bool:
    """Whether opens and clicks of an email the clinic sends now, on `stream`, are tracked:
    as the clinic chose, and never through its own server (which reports nothing)."""
    return stream != SMTP and clinic.track_engagement


def engagement_tracking_off(message: AnymailMessage, *, esp: str) -> None:
    """Asks the ESP to add no tracking pixel and rewrite no links in `message`."""
    if esp == AMAZON_SES:
        message.esp_extra = deepcopy(SES_TRACKING_OFF)
        return
    message.track_opens = False
    message.track_clicks = False
