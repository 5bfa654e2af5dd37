"""Conditional and range requests (RFC 9110 sections 13 and 14), for both doors.

A record's validators come from what is stored: its ``version``, raised by one
on every write in the same update that changes it, and its ``updatedAt``. The
entity tag names the version, so an ``If-Match`` turns into the version an
update must find (``{"_id": id, "version": n}`` in the update's own filter: no
read-then-write window), and a write whose filter matches nothing because the
version moved on is a failed precondition.

Everything here works on header values and numbers; the doors read the headers
and write the answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Final

__all__ = [
    "ByteRange",
    "Unsatisfiable",
    "Validators",
    "expected_tags",
    "expected_versions",
    "is_not_modified",
    "matches",
    "parse_range",
    "range_applies",
]

# One entity tag: optional weakness prefix, then a quoted string of tag characters.
_TAG: Final = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')
_VERSION: Final = re.compile(r"^v(\d{1,18})(?:\..*)?$")
_RANGE: Final = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


@dataclass(frozen=True, slots=True)
class Validators:
    """A representation's strong entity tag and its last modification (second precision).

    ``tag`` is the opaque part of the entity tag, without quotes; a record's
    starts with ``v<version>`` so that ``If-Match`` gives back the version.
    """

    tag: str
    last_modified: datetime

    @classmethod
    def of_record(cls, version: int, updated_at: datetime, variant: str = "") -> Validators:
        """A stored record's validators; ``variant`` tells apart representations of one
        version (a user seen with or without the email)."""
        tag = f"v{version}.{variant}" if variant else f"v{version}"
        return cls(tag, updated_at)

    @property
    def etag(self) -> str:
        return f'"{self.tag}"'

    @property
    def http_date(self) -> str:
        moment = self.last_modified
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)

    def headers(self) -> dict[str, str]:
        return {"ETag": self.etag, "Last-Modified": self.http_date}


def _tags(header: str) -> list[tuple[bool, str]] | None:
    """The entity tags of an ``If-Match``/``If-None-Match`` list as (weak, opaque); None if
    it is ``*``; an empty list when the value is malformed (it then matches nothing)."""
    value = header.strip()
    if value == "*":
        return None
    found: list[tuple[bool, str]] = []
    position = 0
    while position < len(value):
        match = _TAG.match(value, position)
        if match is None:
            return []
        found.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return found


def matches(header: str | None, current: Validators | None, *, weak: bool) -> bool:
    """Whether an ``If-Match`` (strong comparison) or ``If-None-Match`` (``weak``) list
    names the current representation; ``*`` names any existing one."""
    if header is None or current is None:
        return False
    tags = _tags(header)
    if tags is None:
        return True
    return any((weak or not is_weak) and tag == current.tag for is_weak, tag in tags)


def is_not_modified(
    validators: Validators, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """Whether a GET or HEAD is answered 304 (RFC 9110 13.2.2): ``If-None-Match`` decides
    when present; otherwise ``If-Modified-Since``. ``Cache-Control: no-cache`` from the
    client does not change this: it asks caches to revalidate, which this is."""
    if if_none_match is not None:
        return matches(if_none_match, validators, weak=True)
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False  # not an HTTP-date (which is always GMT)
    modified = validators.last_modified
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    return modified.replace(microsecond=0) <= since


def expected_tags(if_match: str | None) -> frozenset[str] | None:
    """The opaque tags an ``If-Match`` accepts (it compares strongly, so weak ones
    count for nothing): None when it sets no condition (absent, or ``*`` on a
    representation that exists); an empty set when it is malformed."""
    if if_match is None:
        return None
    tags = _tags(if_match)
    if tags is None:
        return None
    return frozenset(tag for is_weak, tag in tags if not is_weak)


def expected_versions(if_match: str | None) -> frozenset[int] | None:
    """The record versions an ``If-Match`` accepts: None when it sets no condition
    (absent, or ``*`` on a record that exists); an empty set when it names no
    version of ours (so every write fails the precondition)."""
    tags = expected_tags(if_match)
    if tags is None:
        return None
    return frozenset(
        int(match.group(1)) for tag in tags if (match := _VERSION.match(tag)) is not None
    )


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive of a representation of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.size}"


@dataclass(frozen=True, slots=True)
class Unsatisfiable:
    """A range that lies wholly past the end: 416 with ``Content-Range: bytes */size``."""

    size: int

    @property
    def content_range(self) -> str:
        return f"bytes */{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | Unsatisfiable | None:
    """The single byte range a ``Range`` header asks for, or None to send the whole
    representation (no header, a syntax this does not serve, or several ranges,
    which RFC 9110 14.2 lets a server ignore)."""
    if header is None:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            return Unsatisfiable(size)
        return ByteRange(max(0, size - suffix), size - 1, size)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid: ignored
    if start >= size:
        return Unsatisfiable(size)
    return ByteRange(start, min(end, size - 1), size)


def range_applies(if_range: str | None, validators: Validators) -> bool:
    """Whether a ``Range`` is served given ``If-Range`` (RFC 9110 13.1.5): only when
    absent or naming the current representation (strong tag, or its exact date)."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith('"'):
        return value == validators.etag
    if value.startswith("W/"):
        return False
    return value == validators.http_date
