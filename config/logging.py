import logging
import re

ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
FORM_TOKEN = re.compile(r"/forms/[^/\s?]+")


class RedactPersonalData(logging.Filter):
    """Keeps email addresses and smart-form tokens out of the logs, whoever logs them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = FORM_TOKEN.sub("/forms/<token>", ADDRESS.sub("<address>", message))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class EscapeLineBreaks(logging.Filter):
    """One record, one line: a line break in anything that came from a request (a webhook's
    topic, a form field) cannot forge a log line of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = message.replace("\r", "\\r").replace("\n", "\\n")
        if escaped != message:
            record.msg, record.args = escaped, None
        return True
