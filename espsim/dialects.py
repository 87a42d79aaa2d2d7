"""The ESPs the simulator speaks, by the name ``EMAIL_ESP`` gives them."""

from __future__ import annotations

from .amazon_ses import AmazonSES
from .dialect import Dialect
from .mailgun import Mailgun
from .postmark import Postmark
from .sendgrid import SendGrid

DIALECTS: dict[str, type[Dialect]] = {
    "mailgun": Mailgun,
    "postmark": Postmark,
    "sendgrid": SendGrid,
    "amazon_ses": AmazonSES,
}
