"""Relay connections over ``gateway.pagination``'s keyset pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from gateway import pagination

__all__ = ["Connection", "Edge", "PageInfo", "connection"]

NodeT = TypeVar("NodeT")
ModelT = TypeVar("ModelT")


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="A node with the cursor that points at it.")
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type(description="One page of a list: `first`/`after` forward, `last`/`before` back.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    nodes: list[NodeT]
    page_info: PageInfo
    total_count: int = strawberry.field(description="The size of the whole list, not the page.")


def connection(
    page: pagination.Connection[ModelT], convert: Callable[[ModelT], NodeT]
) -> Connection[NodeT]:
    """The GraphQL form of a page, each model converted once."""
    edges = [Edge(cursor=edge.cursor, node=convert(edge.node)) for edge in page.edges]
    return Connection(
        edges=edges,
        nodes=[edge.node for edge in edges],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        ),
        total_count=page.total_count,
    )
