"""Parsing of the request bodies Mailgun's sending API accepts.

Mailgun takes ``multipart/form-data`` (always used by anymail when there are
attachments) or ``application/x-www-form-urlencoded``. Both give a multi-valued
form: every field may repeat (``to``, ``o:tag``, ``attachment``...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

_PARAM_RE = re.compile(r'(\w+)(\*?)=(?:"([^"]*)"|([^;\s]*))')


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

    def add(self, name: str, value: str) -> None:
        self.fields.setdefault(name, []).append(value)

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


def parse_form(content_type: str, body: bytes) -> Form:
    """Parse a request body according to its Content-Type header."""
    mime, params = _split_header(content_type)
    if mime == "multipart/form-data" and params.get("boundary"):
        return _parse_multipart(body, params["boundary"].encode("latin-1"))
    form = Form()
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.add(name, value)
    return form


def _split_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/sub; a="b"; c*=utf-8''d`` into the main value and its parameters."""
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM_RE.finditer(rest):
        name, star, quoted, bare = match.groups()
        raw = quoted if quoted is not None else bare
        if star:
            _charset, _, encoded = raw.partition("''")
            params[name.lower()] = unquote(encoded or raw)
        else:
            params.setdefault(name.lower(), raw.replace("%22", '"'))
    return main.strip().lower(), params


def _parse_multipart(body: bytes, boundary: bytes) -> Form:
    form = Form()
    delimiter = b"--" + boundary
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # closing delimiter
        _add_part(form, chunk.removeprefix(b"\r\n").removesuffix(b"\r\n"))
    return form


def _add_part(form: Form, part: bytes) -> None:
    raw_headers, _, content = part.partition(b"\r\n\r\n")
    headers = _part_headers(raw_headers.decode("utf-8", "replace"))
    _disposition, params = _split_header(headers.get("content-disposition", ""))
    name = params.get("name")
    if name is None:
        return
    if "filename" in params:
        content_type = headers.get("content-type", "application/octet-stream")
        form.files.append(Upload(name, params["filename"], content_type, len(content)))
    else:
        form.add(name, content.decode("utf-8", "replace"))


def _part_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
    return headers
