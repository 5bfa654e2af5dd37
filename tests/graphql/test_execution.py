"""The fast execution answers exactly what graphql-core does; so does the schema without it.

Every query here runs both ways (``schema.fast_execution`` on and off) and must
get the same answer, byte for byte, errors included.
"""

from __future__ import annotations

import enum
import gc
import json
import operator
import weakref
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec
import pytest
import strawberry
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from gateway.config import SettingsError, load_settings
from gateway.models import ProductCreate
from resolvers import graphql_schema
from schema.fast_execution import VERIFIED, FastExecutionContext, refuse_unverified_versions
from schema.releasing_execution import ReleasingExecutionContext
from schema.scalars import SCALARS
from tests.conftest import OPERATOR
from tests.graphql.support import data, gql, serving

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
    grid: list[list[int | None]]

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
            grid=[[b, None], [], [b * 2]],
        )
        for b in range(3)
    ]


def _with_a_bad_leaf(kind: str) -> list[Leaf]:
    """Three leaves, the one in the middle bad as ``kind`` says."""
    good = Leaf(label="fine", size=1, colour=Colour.RED, at=WHEN)
    bad = {
        "null": Leaf(label=None, size=1, colour=Colour.RED, at=WHEN),  # type: ignore[arg-type]
        "int": Leaf(label="x", size="big", colour=Colour.RED, at=WHEN),  # type: ignore[arg-type]
        "raises": Leaf(label="x", size=1, colour="green", at=WHEN),  # type: ignore[arg-type]
        "scalar": Leaf(label="x", size=1, colour=Colour.RED, at="noon"),  # type: ignore[arg-type]
    }[kind]
    return [good, bad, good]


class Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).upper()


@strawberry.type
class Shouted:
    """A field without a resolver of its own, but with a field extension."""

    word: str = strawberry.field(extensions=[Upper()])


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
        return _with_a_bad_leaf(kind)

    @strawberry.field
    def lenient(self, kind: str) -> list[Leaf | None] | None:
        return _with_a_bad_leaf(kind)  # type: ignore[return-value]

    @strawberry.field
    def shouted(self) -> list[Shouted]:
        return [Shouted(word="quiet"), Shouted(word="calm")]


class CountingContext(FastExecutionContext):
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


FAST, PLAIN = schema(FastExecutionContext), schema(ReleasingExecutionContext)

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
SKIP_AND_INCLUDE = """query($yes: Boolean!, $no: Boolean!) {
  branches {
    name @include(if: $yes)
    tags @skip(if: $yes)
    leaves @include(if: $no) { label }
    best { size @skip(if: $no) ...F @include(if: $yes) }
  }
}
fragment F on Leaf { colour at }"""

# (query, variables): each kind of selection the fast execution reads, or hands back.
QUERIES = {
    "everything": (EVERYTHING, None),
    "aliases": ("{ a: branches { n: name x: name leaves { l: label } } b: branches { id } }", None),
    "named and inline fragments": (
        """fragment B on Branch { name ... on Branch { tags } best { ...L } }
        fragment L on Leaf { ... on Leaf { colour at } }
        { branches { ...B } }""",
        None,
    ),
    "__typename everywhere": ("{ __typename branches { __typename leaves { __typename } } }", None),
    "@include on": (SKIP_AND_INCLUDE, {"yes": True, "no": False}),
    "@skip on": (SKIP_AND_INCLUDE, {"yes": False, "no": True}),
    "constant directives": ("{ branches { name @skip(if: true) id @include(if: true) } }", None),
    "nested lists with nulls": ("{ branches { grid tags } }", None),
    "null objects": ("{ branches { best { label } } }", None),
    "enums and custom scalars": ("{ branches { leaves { colour at } best { at } } }", None),
    "an async resolver": ("{ later { name loud: shout leaves { label size } } }", None),
    "a field extension": ("{ shouted { word } }", None),
    # A bad value in the middle of a list: in a non-null list of non-null items the
    # error takes the whole (non-null) field and then the data; in a nullable one, the item.
    **{
        f"{kind} in a non-null list": (
            f'{{ branches {{ name }} broken(kind: "{kind}") {{ label size colour at }} }}',
            None,
        )
        for kind in ("null", "int", "raises", "scalar")
    },
    **{
        f"{kind} in a nullable list": (
            f'{{ branches {{ name }} lenient(kind: "{kind}") {{ label size colour at }} }}',
            None,
        )
        for kind in ("null", "int", "raises", "scalar")
    },
}


def as_sent(result: Any) -> str:
    """The answer as the endpoint would send it: its data and errors, in order."""
    errors = [error.formatted for error in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors})


@pytest.mark.parametrize(("query", "variables"), QUERIES.values(), ids=QUERIES.keys())
async def test_fast_and_plain_execution_answer_alike(query, variables):
    fast = await FAST.execute(query, variable_values=variables)
    plain = await PLAIN.execute(query, variable_values=variables)
    assert as_sent(fast) == as_sent(plain)
    assert fast.data is not None or fast.errors  # something was answered


async def test_plain_fields_answer_what_graphql_core_answers():
    result = await FAST.execute(EVERYTHING)
    assert result.errors is None
    second_leaf = result.data["branches"][2]["leaves"][1]
    assert second_leaf == {
        "label": "leaf 1",
        "size": None,
        "colour": "BLUE",
        "at": "2026-01-02T03:04:05.678000Z",
        "__typename": "Leaf",
        "again": "leaf 1",
    }
    assert result.data["branches"][0]["best"] is None
    assert result.data["branches"][1]["loud"] == "BRANCH 1"
    # Keys keep the order of the query, as graphql-core's do.
    assert list(result.data["branches"][1]) == [
        "id",
        "name",
        "tags",
        "__typename",
        "leaves",
        "best",
        "loud",
    ]


@pytest.mark.parametrize(
    ("kind", "field", "answer"),
    [
        ("null", "label", None),  # a non-null field: the item is null
        ("raises", "colour", None),
        ("int", "size", {"label": "x", "size": None, "colour": "RED"}),  # a nullable one
    ],
)
async def test_a_bad_value_in_a_list_gets_graphql_cores_error(kind, field, answer):
    result = await FAST.execute(f'{{ lenient(kind: "{kind}") {{ label size colour }} }}')
    good = {"label": "fine", "size": 1, "colour": "RED"}
    assert result.data == {"lenient": [good, answer, good]}
    [error] = result.errors
    assert error.path == ["lenient", 1, field]
    assert error.locations


async def test_a_null_in_a_non_null_list_nulls_the_data():
    result = await FAST.execute('{ branches { name } broken(kind: "null") { label } }')
    assert result.data is None
    assert result.errors[0].path == ["broken", 1, "label"]


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


async def test_a_field_extension_on_a_plain_field_is_applied():
    result = await FAST.execute("{ shouted { word } }")
    assert result.data == {"shouted": [{"word": "QUIET"}, {"word": "CALM"}]}


class SeesEveryField(SchemaExtension):
    seen: ClassVar[list[str]] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        SeesEveryField.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


async def test_an_extension_that_wraps_resolvers_still_sees_every_field():
    SeesEveryField.seen = []
    result = await schema(FastExecutionContext, [SeesEveryField]).execute(
        "{ branches { name leaves { label } } }"
    )
    assert result.errors is None
    assert SeesEveryField.seen.count("label") == 3
    assert SeesEveryField.seen.count("name") == 3


class Marker:
    """A context value, held by the executor for as long as it lives."""


@pytest.mark.parametrize("context", [FastExecutionContext, ReleasingExecutionContext])
async def test_an_answer_is_freed_without_waiting_for_the_garbage_collector(context):
    marker = Marker()
    held = weakref.ref(marker)
    gc.disable()
    try:
        result = await schema(context).execute("{ branches { name } }", context_value=marker)
        assert result.errors is None
        del marker, result
        assert held() is None
    finally:
        gc.enable()


def test_the_gateway_schema_executes_as_its_setting_says(settings):
    # Each with fresh contexts per subscription event (schema.schema.EventContexts).
    assert issubclass(graphql_schema(settings).execution_context_class, FastExecutionContext)
    plain = msgspec.structs.replace(settings, graphql_fast_execution=False)
    chosen = graphql_schema(plain).execution_context_class
    assert issubclass(chosen, ReleasingExecutionContext)
    assert not issubclass(chosen, FastExecutionContext)


def test_the_installed_versions_are_the_verified_ones():
    refuse_unverified_versions()  # the real ones: what the tests above ran with


@pytest.mark.parametrize(
    ("name", "version"),
    [("graphql-core", "3.4.0"), ("graphql-core", "3.3.0a7"), ("strawberry-graphql", "0.342.0")],
)
def test_versions_it_was_not_verified_with_stop_the_start_up(name, version):
    installed = {"graphql-core": "3.3.9", "strawberry-graphql": "0.341.0", name: version}
    with pytest.raises(SettingsError) as refused:
        refuse_unverified_versions(installed.__getitem__)
    message = str(refused.value)
    assert f"{name} {version} (verified: {VERIFIED[name]}.x)" in message
    assert "GATEWAY_GRAPHQL_FAST_EXECUTION=false" in message
    assert len(message.split(" (verified")) == 2  # only the unverified one is named


def test_the_setting_is_read_from_the_environment():
    off = load_settings({"GATEWAY_GRAPHQL_FAST_EXECUTION": "false"}, env_file=None)
    assert off.graphql_fast_execution is False
    assert load_settings({}, env_file=None).graphql_fast_execution is True


# The gateway's own schema over the same data, fast and plain: the same answers.
USER = "id name email role createdAt updatedAt __typename"
GATEWAY_QUERIES = {
    "users, posts, profiles, authors": (
        f"""{{ users(first: 10) {{ totalCount pageInfo {{ hasNextPage endCursor }}
            nodes {{ {USER} profile {{ bio avatarUrl }}
              posts {{ id title content createdAt author {{ name posts {{ title }} }} }} }}
            edges {{ cursor node {{ id }} }} }} }}""",
        None,
    ),
    "products ordered, aliased, in fragments": (
        """query($by: ProductSortField!, $full: Boolean!) {
          cheap: products(first: 3, orderBy: {field: PRICE, direction: ASC}) { nodes { ...P } }
          byName: products(first: 10, orderBy: {field: $by, direction: DESC}) {
            edges { node { ... on Product { name price @include(if: $full) } } } }
        }
        fragment P on Product { id name category price description createdAt updatedAt }""",
        {"by": "NAME", "full": True},
    ),
    "@skip and @include": (
        """query($full: Boolean!) { products(first: 5) {
          nodes { name price @include(if: $full) description @skip(if: $full) } } }""",
        {"full": False},
    ),
    "a missing user nulls the data": (
        '{ hello user(id: "0123456789abcdef01234567") { name } }',
        None,
    ),
    "bad input": ("{ products(first: 0) { nodes { id } } }", None),
}


@pytest.mark.parametrize(
    ("query", "variables"), GATEWAY_QUERIES.values(), ids=GATEWAY_QUERIES.keys()
)
async def test_the_gateway_answers_alike_fast_and_plain(
    client, services, mongo, settings, alice, bob, query, variables
):
    for n in range(4):
        await services.products.create(
            OPERATOR,
            ProductCreate(
                name=f"p{n}", category="c", price=float(n % 3), description="d" if n % 2 else None
            ),
        )
    for title in ("one", "two"):
        await gql(
            client,
            f'mutation {{ createPost(input: {{title: "{title}"}}) {{ id }} }}',
            headers=alice["headers"],
        )
    await gql(
        client, 'mutation { updateProfile(input: {bio: "me"}) { bio } }', headers=bob["headers"]
    )
    plain_settings = msgspec.structs.replace(settings, graphql_fast_execution=False)
    async with serving(plain_settings, mongo) as plain_client:
        for headers in ({}, alice["headers"]):
            fast = await client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            plain = await plain_client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            assert fast.status_code == plain.status_code == 200
            assert fast.content == plain.content
            assert fast.json().get("data") or fast.json().get("errors")


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
    fast, plain = (
        strawberry.Schema(
            query=RowQuery,
            config=StrawberryConfig(default_resolver=operator.getitem),
            execution_context_class=context,
        )
        for context in (FastExecutionContext, ReleasingExecutionContext)
    )
    query = "{ rows { key count } }"
    result = await fast.execute(query)
    assert result.errors is None
    assert result.data == {"rows": [{"key": "a", "count": 1}, {"key": "b", "count": None}]}
    assert result.data == (await plain.execute(query)).data
