"""The file service's rules: which paths may hold a file, which media types may be
declared, and which image type bytes show."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote_to_bytes

from gateway.errors import ValidationFailed

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_PATH",
    "SNIFF_BYTES",
    "check_media_type",
    "check_path",
    "may_hold_file",
    "sniff_image",
]

MAX_PATH = 1024

_IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
IMAGE_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}
SNIFF_BYTES = 8
# type/subtype with optional parameters (``text/plain; charset=latin-1``), kept as sent.
_MEDIA_TYPE = re.compile(r'^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"\\\x00-\x1f]*"|[\w.+-]+))*$')


def check_path(path: str | bytes) -> str:
    """Return the file path, or refuse it: the one place the path rules live.

    ``bytes`` are a path as it came in a URL, percent-escapes and all (REST reads
    it from the raw request line, because the framework's decoded path has
    already merged doubled slashes, dropped a trailing one and turned bad
    escapes into U+FFFD); ``str`` is a path as given (GraphQL). Nothing is
    normalised: a path that would need it is refused, so one stored file has
    exactly one spelling.

    Raises:
        ValidationFailed: escapes that do not decode as UTF-8, too long, or a
            segment empty, ``.``, ``..``, with a backslash, a control character
            or a lone surrogate (which no UTF-8 text holds).
    """
    if isinstance(path, bytes):
        try:
            path = unquote_to_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed(
                "Invalid file path", ["path: percent-escapes must decode as UTF-8"]
            ) from None
    if not path or len(path) > MAX_PATH:
        raise ValidationFailed("Invalid file path", [f"path: 1 to {MAX_PATH} characters"])
    for segment in path.split("/"):
        if (
            segment in {"", ".", ".."}
            or "\\" in segment
            or any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in segment)
        ):
            raise ValidationFailed("Invalid file path", [f"path: invalid segment {segment!r}"])
    return path


def may_hold_file(path: str) -> bool:
    """Whether ``path``, as stored, is one the path rules accept as it is."""
    try:
        return check_path(path) == path
    except ValidationFailed:
        return False


def check_media_type(content_type: str | None) -> str:
    """The declared media type as stored: type and subtype lower-cased, parameters as sent.

    Raises:
        ValidationFailed: not a media type, or longer than 255 characters.
    """
    media_type = (content_type or "application/octet-stream").strip()
    if len(media_type) > 255 or not _MEDIA_TYPE.match(media_type):
        raise ValidationFailed("Invalid content type", ["contentType: not a media type"])
    kind, _, parameters = media_type.partition(";")
    return kind.lower() + (f";{parameters}" if parameters else "")


def sniff_image(head: bytes) -> str | None:
    """The image type the bytes show (JPEG, PNG, GIF), whatever the client claimed."""
    for signature, media_type in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return media_type
    return None
