"""Conditional and range requests: the RFC 9110 rules both doors rely on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.conditional import (
    ByteRange,
    Unsatisfiable,
    Validators,
    expected_versions,
    is_not_modified,
    matches,
    parse_range,
    range_applies,
)

WHEN = datetime(2026, 11, 30, 12, 0, 0, 750_000, tzinfo=UTC)
V3 = Validators.of_record(3, WHEN)


def test_a_records_validators_name_its_version_and_second():
    assert V3.headers() == {"ETag": '"v3"', "Last-Modified": "Mon, 30 Nov 2026 12:00:00 GMT"}
    assert Validators.of_record(3, WHEN, "public").etag == '"v3.public"'


@pytest.mark.parametrize(
    ("if_none_match", "if_modified_since", "expected"),
    [
        ('"v3"', None, True),
        ('W/"v3"', None, True),  # If-None-Match compares weakly
        ('"v2", "v3"', None, True),
        ("*", None, True),
        ('"v2"', None, False),
        ('"v2"', "Mon, 30 Nov 2026 12:00:00 GMT", False),  # If-None-Match decides
        (None, "Mon, 30 Nov 2026 12:00:00 GMT", True),  # same second: not modified since
        (None, "Mon, 30 Nov 2026 11:59:59 GMT", False),
        (None, "not a date", False),
        ("garbage", None, False),
        (None, None, False),
    ],
)
def test_not_modified(if_none_match, if_modified_since, expected):
    assert is_not_modified(V3, if_none_match, if_modified_since) is expected


def test_if_match_compares_strongly_and_star_needs_a_record():
    assert matches('"v3"', V3, weak=False)
    assert not matches('W/"v3"', V3, weak=False)
    assert matches("*", V3, weak=False)
    assert not matches("*", None, weak=False)


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        (None, None),
        ("*", None),
        ('"v3"', {3}),
        ('"v3.public", "v4"', {3, 4}),
        ('W/"v3"', set()),  # a weak tag never satisfies If-Match
        ('"something-else"', set()),
        ("not a list", set()),
    ],
)
def test_if_match_gives_the_versions_a_write_may_find(header, versions):
    found = expected_versions(header)
    assert (found if found is None else set(found)) == versions


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-99", 1000, ByteRange(0, 99, 1000)),
        ("bytes=900-", 1000, ByteRange(900, 999, 1000)),
        ("bytes=-100", 1000, ByteRange(900, 999, 1000)),
        ("bytes=-5000", 1000, ByteRange(0, 999, 1000)),
        ("bytes=990-5000", 1000, ByteRange(990, 999, 1000)),
        ("bytes=1000-", 1000, Unsatisfiable(1000)),
        ("bytes=-0", 1000, Unsatisfiable(1000)),
        ("bytes=0-", 0, Unsatisfiable(0)),
        ("bytes=5-1", 1000, None),  # invalid: the whole file
        ("bytes=0-1,5-6", 1000, None),  # several ranges: the whole file
        ("items=0-1", 1000, None),
        (None, 1000, None),
    ],
)
def test_ranges(header, size, expected):
    assert parse_range(header, size) == expected


def test_range_headers():
    assert ByteRange(900, 999, 1000).content_range == "bytes 900-999/1000"
    assert ByteRange(900, 999, 1000).length == 100
    assert Unsatisfiable(1000).content_range == "bytes */1000"


def test_if_range_serves_the_range_only_for_the_current_representation():
    assert range_applies(None, V3)
    assert range_applies('"v3"', V3)
    assert not range_applies('"v2"', V3)
    assert not range_applies('W/"v3"', V3)
    assert range_applies("Mon, 30 Nov 2026 12:00:00 GMT", V3)
    assert not range_applies("Mon, 30 Nov 2026 11:00:00 GMT", V3)
