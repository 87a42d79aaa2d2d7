"""The Mailgun dialect (see ``espsim.mailgun.dialect``)."""

from .dialect import Mailgun

__all__ = ["Mailgun"]
