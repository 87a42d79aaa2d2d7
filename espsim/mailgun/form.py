"""The multi-valued form of a Mailgun API request, read by Werkzeug.

Mailgun takes ``multipart/form-data`` (always used by anymail when there are attachments) or
``application/x-www-form-urlencoded``; every field may repeat (``to``, ``o:tag``,
``attachment``...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart form (an attachment or inline image)."""

    field: str
    filename: str
    content_type: str
    size: int


@dataclass
class Form:
    """A multi-valued form: text fields and uploaded files."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.fields.get(name)
        return values[-1] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """Last value of every field named ``prefix<something>``, keyed by <something>."""
        return {
            name[len(prefix) :]: values[-1]
            for name, values in self.fields.items()
            if name.startswith(prefix) and values
        }


def read_form(request: Request) -> Form:
    fields = {name: request.form.getlist(name) for name in request.form}
    files = [_upload(name, storage) for name, storage in request.files.items(multi=True)]
    return Form(fields, files)


def _upload(name: str, storage: FileStorage) -> Upload:
    size = len(storage.stream.read())
    content_type = storage.content_type or "application/octet-stream"
    return Upload(name, storage.filename or "", content_type, size)
