"""Cursors are signed: only the gateway's own, for their own list and sort, are read."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import bson
import pytest
from bson import ObjectId

from gateway.errors import ValidationFailed
from gateway.models import ProductCreate
from gateway.pagination import MAX_CURSOR_LENGTH, CursorArgs, CursorCodec, SortKey
from gateway.services import Services
from tests.conftest import OPERATOR, TEST_SECRET

CODEC = CursorCodec(TEST_SECRET)
PRICE = SortKey("price", 1, (int, float))
NAME = SortKey("name", 1, str)
CREATED = SortKey("createdMs", 1, int)
BY_ID = SortKey()
DOC = {"_id": ObjectId(), "price": 2.5, "name": "Lamp", "createdMs": 1_767_225_600_000}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def signed(payload: dict[str, Any], scope: str, sort: SortKey, key: bytes | None = None) -> str:
    """A cursor holding any ``payload``, signed as the gateway signs (or with ``key``)."""
    if key is None:
        key = hmac.digest(TEST_SECRET.encode(), b"gateway cursor v1", "sha256")
    raw = bson.encode(payload)
    message = f"{scope}\0{sort.tag}\0".encode() + raw
    return b64(raw + hmac.new(key, message, hashlib.sha256).digest()[:16])


def refused(sort: SortKey, cursor: str, scope: str = "products", name: str = "after") -> None:
    with pytest.raises(ValidationFailed) as caught:
        CODEC.decode(scope, sort, cursor, name)
    assert caught.value.message == "Invalid cursor"
    assert caught.value.details == [f"{name}: invalid cursor"]


@pytest.mark.parametrize("sort", [PRICE, NAME, CREATED, BY_ID])
def test_a_cursor_reads_back_as_made(sort):
    cursor = CODEC.encode("products", sort, DOC)
    assert CODEC.decode("products", sort, cursor, "after") == (DOC[sort.field], DOC["_id"])
    assert len(cursor) < 80
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_an_integer_price_reads_back():
    doc = {**DOC, "price": 3}
    assert CODEC.decode("products", PRICE, CODEC.encode("products", PRICE, doc), "after")[0] == 3


def test_the_unsigned_format_of_old_is_refused():
    old = b64(bson.encode({"k": PRICE.tag, "v": 2.5, "i": DOC["_id"]}))
    refused(PRICE, old)


OTHER_SECRET = "another secret of enough length, 0123456789"


@pytest.mark.parametrize(
    "key",
    [
        hmac.digest(OTHER_SECRET.encode(), b"gateway cursor v1", "sha256"),
        TEST_SECRET.encode(),  # the JWT secret itself is not the key
    ],
)
def test_a_cursor_signed_with_another_key_is_refused(key):
    refused(PRICE, signed({"v": 2.5, "i": DOC["_id"]}, "products", PRICE, key))


def test_a_cursor_of_another_codec_is_refused():
    refused(PRICE, CursorCodec(OTHER_SECRET).encode("products", PRICE, DOC))


def test_every_flipped_bit_is_refused():
    raw = unb64(CODEC.encode("products", PRICE, DOC))
    for at in range(len(raw)):
        for bit in (0, 3, 7):
            flipped = bytearray(raw)
            flipped[at] ^= 1 << bit
            refused(PRICE, b64(bytes(flipped)))


def test_a_real_cursor_with_a_non_ascii_character_is_refused():
    cursor = CODEC.encode("products", PRICE, DOC)
    for char in ("\u00e9", "\uff21", "\u0661", "\U0001f642"):
        refused(PRICE, cursor[:10] + char + cursor[11:])
        refused(PRICE, cursor + char)


def test_truncated_and_extended_cursors_are_refused():
    cursor = CODEC.encode("products", NAME, DOC)
    for cut in (1, 2, 4, 16, 22, len(cursor) - 1, len(cursor)):
        refused(NAME, cursor[:-cut])
    refused(NAME, cursor + "A")
    refused(NAME, cursor + "AAAA")
    refused(NAME, cursor + "==")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage",
        "%%%",
        "a b",
        "abc=",
        "65a0000000000000000000ff",  # an ObjectId; fixed, so parallel workers collect alike
        "é" + "A" * 60,
        "\uff43\uff55\uff52\uff53\uff4f\uff52",  # fullwidth letters
        "\u0661\u0662\u0663\u0664",  # Arabic-Indic digits
        "🙂" * 20,
        "A" * (MAX_CURSOR_LENGTH + 1),
        "A" * 1_000_000,
        "\x00" * 64,
    ],
)
def test_what_is_not_a_cursor_is_refused(bad):
    refused(PRICE, bad)


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        (PRICE, "cheap"),
        (PRICE, True),
        (PRICE, None),
        (PRICE, datetime(2026, 1, 1, tzinfo=UTC)),
        (PRICE, {"$gt": 0}),
        (PRICE, [1, 2]),
        (NAME, 2.5),
        (NAME, 7),
        (NAME, ObjectId()),
        (CREATED, datetime(2026, 1, 1, tzinfo=UTC)),
        (CREATED, 1.5),
        (CREATED, "1767225600000"),
        (CREATED, False),
        (BY_ID, "65a000000000000000000000"),
        (BY_ID, 1),
    ],
)
def test_a_signed_value_of_the_wrong_type_is_refused(sort, value):
    # A leaked key must still not lead to comparing values of different types.
    refused(sort, signed({"v": value, "i": DOC["_id"]}, "products", sort))


@pytest.mark.parametrize(
    "payload",
    [
        {"v": 2.5},
        {"i": DOC["_id"]},
        {"v": 2.5, "i": str(DOC["_id"])},
        {"v": 2.5, "i": DOC["_id"], "k": PRICE.tag},
        {"v": 2.5, "i": DOC["_id"], "$where": "1"},
        {},
    ],
)
def test_a_signed_payload_of_another_shape_is_refused(payload):
    refused(PRICE, signed(payload, "products", PRICE))


def test_the_forger_signs_as_the_gateway_does():
    # So that the refusals above are for what the payload holds, not its signature.
    assert signed({"v": 2.5, "i": DOC["_id"]}, "products", PRICE) == CODEC.encode(
        "products", PRICE, DOC
    )


def test_a_signed_payload_that_is_not_bson_is_refused():
    key = hmac.digest(TEST_SECRET.encode(), b"gateway cursor v1", "sha256")
    junk = b"\x05\x00\x00\x00\x01"
    tag = hmac.new(key, f"products\0{PRICE.tag}\0".encode() + junk, hashlib.sha256).digest()
    refused(PRICE, b64(junk + tag[:16]))


def test_a_cursor_belongs_to_its_list_and_sort():
    cursor = CODEC.encode("products", CREATED, DOC)
    refused(CREATED, cursor, scope="users")
    refused(SortKey("createdMs", -1, int), cursor)
    refused(PRICE, CODEC.encode("products", SortKey("price", -1, (int, float)), DOC))
    refused(NAME, CODEC.encode("products", PRICE, DOC))


def test_a_codec_needs_a_secret():
    for secret in (None, ""):
        with pytest.raises(ValueError, match="JWT secret"):
            CursorCodec(secret)


async def test_a_product_with_the_longest_name_pages_on(core: Services):
    # 200 four-byte characters: the longest cursor a stored product makes still reads.
    longest = "🙂" * 200
    for name in (longest, longest[:-1] + "😀", "zz"):
        await core.products.create(OPERATOR, ProductCreate(name=name, category="c", price=1))
    first = await core.products.connection(CursorArgs(first=1), sort_field="name")
    assert first.nodes[0].name == "zz"
    cursor = first.end_cursor
    page = await core.products.connection(CursorArgs(first=1, after=cursor), sort_field="name")
    assert page.nodes[0].name == longest[:-1] + "😀"
    assert page.end_cursor is not None and len(page.end_cursor) <= MAX_CURSOR_LENGTH
    last = await core.products.connection(
        CursorArgs(first=5, after=page.end_cursor), sort_field="name"
    )
    assert [p.name for p in last.nodes] == [longest]
    assert not last.has_next_page


@pytest.mark.parametrize("field", ["createdAt", "price", "name"])
async def test_the_services_refuse_forged_cursors(core: Services, field):
    await core.products.create(OPERATOR, ProductCreate(name="Lamp", category="c", price=1))
    page = await core.products.connection(CursorArgs(first=1), sort_field=field)
    real = page.end_cursor
    assert real is not None
    stored = {"createdAt": "createdMs", "price": "price", "name": "name"}[field]
    wrong: Any = "text" if field != "name" else 1.5
    forged = CODEC.encode(
        "products", SortKey(stored, 1, object), {"_id": ObjectId(), stored: wrong}
    )
    for bad in (forged, real[:-2], real + "A", b64(unb64(real)[:-16])):
        for args in (CursorArgs(first=1, after=bad), CursorArgs(last=1, before=bad)):
            with pytest.raises(ValidationFailed) as caught:
                await core.products.connection(args, sort_field=field)
            assert caught.value.message == "Invalid cursor"
    # A products cursor made under the users' sort is still not a users cursor.
    users = await core.users.connection(OPERATOR, CursorArgs(first=1))
    assert users.nodes == []
    product_cursor = (await core.products.connection(CursorArgs(first=1))).end_cursor
    with pytest.raises(ValidationFailed, match="Invalid cursor"):
        await core.users.connection(OPERATOR, CursorArgs(first=1, after=product_cursor))
