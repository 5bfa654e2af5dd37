"""Plain fields read straight off their objects answer exactly what graphql-core would."""

from __future__ import annotations

import enum
import operator
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.models import ProductCreate
from resolvers import graphql_schema
from schema.execution import LeanExecutionContext
from schema.scalars import SCALARS
from tests.conftest import OPERATOR
from tests.graphql.support import data

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leaf:
    label: str
    size: int | None
    colour: Colour
    at: datetime


@strawberry.type
class Branch:
    id: strawberry.ID
    name: str
    leaves: list[Leaf]
    best: Leaf | None
    tags: list[str | None]

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


def _branches() -> list[Branch]:
    def leaf(n: int) -> Leaf:
        return Leaf(label=f"leaf {n}", size=None if n % 2 else n, colour=Colour.BLUE, at=WHEN)

    return [
        Branch(
            id=strawberry.ID(str(b)),
            name=f"branch {b}",
            leaves=[leaf(n) for n in range(b)],
            best=leaf(b) if b else None,
            tags=["a", None],
        )
        for b in range(3)
    ]


@strawberry.type
class Query:
    @strawberry.field
    def branches(self) -> list[Branch]:
        return _branches()

    @strawberry.field
    async def later(self) -> list[Branch]:
        return _branches()

    @strawberry.field
    def broken(self, kind: str) -> list[Leaf]:
        good = Leaf(label="fine", size=1, colour=Colour.RED, at=WHEN)
        bad = {
            "null": Leaf(label=None, size=1, colour=Colour.RED, at=WHEN),  # type: ignore[arg-type]
            "int": Leaf(label="x", size="big", colour=Colour.RED, at=WHEN),  # type: ignore[arg-type]
            "raises": Leaf(label="x", size=1, colour="green", at=WHEN),  # type: ignore[arg-type]
        }[kind]
        return [good, bad]


class CountingContext(LeanExecutionContext):
    """Counts the fields graphql-core builds a resolve-info for (its full path)."""

    infos: ClassVar[int] = 0

    def build_resolve_info(self, *args: Any) -> Any:
        CountingContext.infos += 1
        return super().build_resolve_info(*args)


def schema(context: type, extensions: list[Any] | None = None) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=context,
        extensions=extensions or [],
    )


LEAN, STOCK = schema(LeanExecutionContext), schema(StrawberryGraphQLCoreExecutionContext)

EVERYTHING = """
fragment L on Leaf { label size colour at __typename }
query {
  branches {
    id name tags __typename
    leaves { ...L again: label }
    best { ... on Leaf { label } size }
    loud: shout
  }
  later { name leaves { label } }
}
"""


async def both(query: str) -> tuple[Any, Any]:
    lean, stock = await LEAN.execute(query), await STOCK.execute(query)
    return lean, stock


async def test_plain_fields_answer_what_graphql_core_answers():
    lean, stock = await both(EVERYTHING)
    assert lean.errors is None
    assert lean.data == stock.data
    second_leaf = lean.data["branches"][2]["leaves"][1]
    assert second_leaf == {
        "label": "leaf 1",
        "size": None,
        "colour": "BLUE",
        "at": "2026-01-02T03:04:05.678000Z",
        "__typename": "Leaf",
        "again": "leaf 1",
    }
    assert lean.data["branches"][0]["best"] is None
    assert lean.data["branches"][1]["loud"] == "BRANCH 1"
    # Keys keep the order of the query, as graphql-core's do.
    assert list(lean.data["branches"][1]) == [
        "id",
        "name",
        "tags",
        "__typename",
        "leaves",
        "best",
        "loud",
    ]


async def test_plain_subtrees_skip_graphql_cores_per_field_work():
    CountingContext.infos = 0
    result = await schema(CountingContext).execute("{ branches { name leaves { label size } } }")
    assert result.errors is None
    # Only the root field went through graphql-core; 3 branches and 3 leaves did not.
    assert CountingContext.infos == 1
    CountingContext.infos = 0
    await schema(CountingContext).execute("{ branches { name loud: shout leaves { label } } }")
    # A resolver of its own sends its object through graphql-core (root + 3 x name, shout,
    # leaves); the leaves below are plain again.
    assert CountingContext.infos == 1 + 3 * 3


@pytest.mark.parametrize("kind", ["null", "int", "raises"])
async def test_a_bad_value_gets_graphql_cores_error(kind):
    query = "{ broken(kind: $kind) { label size colour } }".replace("$kind", f'"{kind}"')
    lean, stock = await both(query)
    assert lean.data == stock.data
    assert [e.formatted for e in lean.errors] == [e.formatted for e in stock.errors]
    assert lean.errors[0].path[:2] == ["broken", 1]


class SeesEveryField(SchemaExtension):
    seen: ClassVar[list[str]] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        SeesEveryField.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


async def test_an_extension_that_wraps_resolvers_still_sees_every_field():
    SeesEveryField.seen = []
    result = await schema(LeanExecutionContext, [SeesEveryField]).execute(
        "{ branches { name leaves { label } } }"
    )
    assert result.errors is None
    assert SeesEveryField.seen.count("label") == 3
    assert SeesEveryField.seen.count("name") == 3


def test_the_gateway_schema_executes_through_it(settings):
    assert graphql_schema(settings).execution_context_class is LeanExecutionContext


INCLUDED = """query($full: Boolean!) {
  products(first: 5) { nodes { name price @include(if: $full) ...More } }
}
fragment More on Product { category @skip(if: $full) }"""


async def test_readers_are_shared_only_by_requests_that_select_the_same_fields(client, services):
    for n in range(3):
        await services.products.create(
            OPERATOR, ProductCreate(name=f"p{n}", category="c", price=float(n))
        )
    plain = "{ products(first: 5) { nodes { name price } } }"
    first = await data(client, plain)
    assert await data(client, plain) == first  # the same document: its readers are reused
    assert all(set(node) == {"name", "price"} for node in first["products"]["nodes"])
    # One document, two selections: a reader built for one must not answer the other.
    full = await data(client, INCLUDED, {"full": True})
    short = await data(client, INCLUDED, {"full": False})
    again = await data(client, INCLUDED, {"full": True})
    assert all(set(node) == {"name", "price"} for node in full["products"]["nodes"])
    assert all(set(node) == {"name", "category"} for node in short["products"]["nodes"])
    assert again == full


@strawberry.type
class Row:
    key: str
    count: int | None


@strawberry.type
class RowQuery:
    @strawberry.field
    def rows(self) -> list[Row]:
        return [{"key": "a", "count": 1}, {"key": "b", "count": None}]  # type: ignore[list-item]


async def test_a_schemas_own_default_resolver_is_the_one_used():
    # Rows are dicts here, read by ``getitem`` as the configuration says, not ``getattr``.
    lean, stock = (
        strawberry.Schema(
            query=RowQuery,
            config=StrawberryConfig(default_resolver=operator.getitem),
            execution_context_class=context,
        )
        for context in (LeanExecutionContext, StrawberryGraphQLCoreExecutionContext)
    )
    query = "{ rows { key count } }"
    result = await lean.execute(query)
    assert result.errors is None
    assert result.data == {"rows": [{"key": "a", "count": 1}, {"key": "b", "count": None}]}
    assert result.data == (await stock.execute(query)).data
