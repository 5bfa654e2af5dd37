"""Offset pages and keyset cursors over real data, under every sort."""

from __future__ import annotations

import os

import msgspec
import pytest
from bson import ObjectId

from gateway.db import find_page, utcnow
from gateway.errors import ValidationFailed
from gateway.models import ProductCreate
from gateway.pagination import CursorArgs, PageNumber, PageParams, PageSize
from gateway.services import Services
from tests.conftest import OPERATOR

EMBEDDED = not os.environ.get("GATEWAY_TEST_MONGODB_URI")
PRICES = [5.0, 1.0, 5.0, 3.0, 1.0, 5.0, 2.0, 3.0, 1.0, 4.0, 5.0]  # many ties


async def _products(core: Services) -> list[str]:
    ids = []
    for i, price in enumerate(PRICES):
        name = f"item-{(i * 7) % len(PRICES):02d}"
        category = "even" if i % 2 == 0 else "odd"
        data = ProductCreate(name=name, category=category, price=price)
        ids.append((await core.products.create(OPERATOR, data)).id)
    return ids


@pytest.mark.parametrize("field", ["createdAt", "price", "name"])
@pytest.mark.parametrize("descending", [False, True])
async def test_cursor_pages_cover_everything_once_in_order(core, field, descending):
    await _products(core)
    key = {"createdAt": "created_at", "price": "price", "name": "name"}[field]
    seen, after, pages = [], None, 0
    while True:
        page = await core.products.connection(
            CursorArgs(first=3, after=after), sort_field=field, descending=descending
        )
        pages += 1
        seen.extend(page.nodes)
        assert page.total_count == len(PRICES)
        assert page.has_previous_page == (after is not None)
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert pages == 4
    assert len({p.id for p in seen}) == len(PRICES)
    values = [(getattr(p, key), p.id) for p in seen]
    assert values == sorted(values, reverse=descending)

    # Backward from the end gives the same sequence.
    back, before = [], None
    while True:
        page = await core.products.connection(
            CursorArgs(last=4, before=before), sort_field=field, descending=descending
        )
        back[:0] = page.nodes
        if not page.has_previous_page:
            break
        before = page.start_cursor
    assert [p.id for p in back] == [p.id for p in seen]


async def test_cursor_pages_through_more_ties_than_one_batch_holds(core):
    # 130 products of one price, then cheaper ones: a cursor inside the ties, and ties
    # beyond the first answer's room for them (``_FEW_TIES``) on a real MongoDB.
    for i in range(130):
        await core.products.create(
            OPERATOR, ProductCreate(name=f"same-{i}", category="c", price=2.0)
        )
    for i in range(5):
        await core.products.create(
            OPERATOR, ProductCreate(name=f"less-{i}", category="c", price=1.0)
        )
    seen, after = [], None
    while True:
        page = await core.products.connection(
            CursorArgs(first=40, after=after), sort_field="price", descending=True
        )
        seen.extend(page.nodes)
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert len(seen) == 135
    assert len({p.id for p in seen}) == 135
    assert [p.price for p in seen] == [2.0] * 130 + [1.0] * 5
    assert [p.id for p in seen] == sorted((p.id for p in seen[:130]), reverse=True) + sorted(
        (p.id for p in seen[130:]), reverse=True
    )


async def test_cursor_filtered_by_category_counts_the_filter(core):
    await _products(core)
    page = await core.products.connection(CursorArgs(first=100), category="odd")
    assert page.total_count == len(PRICES) // 2
    assert {p.category for p in page.nodes} == {"odd"}


async def test_cursor_from_another_sort_is_refused(core):
    await _products(core)
    page = await core.products.connection(CursorArgs(first=2), sort_field="price")
    with pytest.raises(ValidationFailed):
        await core.products.connection(
            CursorArgs(first=2, after=page.end_cursor), sort_field="name"
        )
    with pytest.raises(ValidationFailed):
        await core.products.connection(CursorArgs(first=2, after="not-a-cursor"))


@pytest.mark.parametrize(
    "args",
    [
        CursorArgs(first=101),
        CursorArgs(last=101),
        CursorArgs(first=-1),
        CursorArgs(first=1, last=1),
    ],
)
async def test_cursor_arguments_are_bounded(core, args):
    with pytest.raises(ValidationFailed):
        await core.products.connection(args)


async def test_offset_pages(core):
    await _products(core)
    page = await core.products.page(None, PageParams(2, 4))
    assert (page.page, page.limit, page.total, page.pages) == (2, 4, len(PRICES), 3)
    assert len(page.items) == 4
    first = await core.products.page(None, PageParams(1, 4))
    assert not {p.id for p in first.items} & {p.id for p in page.items}


@pytest.mark.parametrize(
    ("rule", "value"),
    [(PageNumber, 0), (PageNumber, 1_000_000_000), (PageSize, 0), (PageSize, 101), (PageSize, -3)],
)
def test_bad_paging_values(rule, value):
    """The bounds REST's ``?page=`` and ``?limit=`` are declared with (tests/rest: as sent)."""
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(value, rule)


@pytest.mark.parametrize("field", ["createdAt", "price", "name"])
async def test_after_and_before_together_bound_the_page(core, field):
    await _products(core)
    everything = await core.products.connection(CursorArgs(first=100), sort_field=field)
    ids = [p.id for p in everything.nodes]
    edges = everything.edges
    window = await core.products.connection(
        CursorArgs(first=100, after=edges[2].cursor, before=edges[8].cursor), sort_field=field
    )
    assert [p.id for p in window.nodes] == ids[3:8]
    short = await core.products.connection(
        CursorArgs(first=2, after=edges[2].cursor, before=edges[8].cursor), sort_field=field
    )
    assert [p.id for p in short.nodes] == ids[3:5]
    assert short.has_next_page
    back = await core.products.connection(
        CursorArgs(last=2, after=edges[2].cursor, before=edges[8].cursor), sort_field=field
    )
    assert [p.id for p in back.nodes] == ids[6:8]
    assert back.has_previous_page


@pytest.mark.parametrize("skip", [0, 5])  # a find command; an aggregation
@pytest.mark.parametrize("query", [{}, {"n": {"$gt": 1}}, {"k": "b"}])
async def test_find_page_is_find_with_sort_skip_and_limit(driver_db, skip, query):
    things = driver_db["things"]
    await things.insert_many([{"n": i % 7, "k": "ab"[i % 2], "at": utcnow()} for i in range(40)])
    sort = [("n", -1), ("_id", 1)]
    expected = await things.find(query).sort(sort).skip(skip).limit(9).to_list(None)
    page = await find_page(things, query, sort, 9, skip=skip)
    assert page == expected
    assert len(page) == 9
    assert all(isinstance(doc["_id"], ObjectId) for doc in page)
    assert all(doc["at"].tzinfo is not None for doc in page)  # the collection's codec options


@pytest.mark.skipif(EMBEDDED, reason="the embedded server sends every answer in one batch")
@pytest.mark.parametrize("skip", [0, 1])
async def test_find_page_reads_a_page_past_one_batch(driver_db, skip):
    big = "x" * (3 * 1024 * 1024)
    await driver_db["things"].insert_many([{"n": i, "blob": big} for i in range(9)])
    page = await find_page(driver_db["things"], {}, [("n", 1)], 8, skip=skip)  # 24 MiB
    assert [doc["n"] for doc in page] == list(range(skip, skip + 8))
