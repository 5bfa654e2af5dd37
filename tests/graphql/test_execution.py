"""Plain fields read straight off their objects answer exactly what graphql-core would."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers import graphql_schema
from schema.execution import LeanExecutionContext
from schema.scalars import SCALARS

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
    first_leaf = lean.data["branches"][2]["leaves"][1]
    assert first_leaf == {
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
