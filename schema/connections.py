"""Relay connections over ``gateway.pagination``'s keyset pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import Info

from gateway import pagination
from schema.fields import field
from schema.selection import selected_names

__all__ = ["Connection", "Edge", "PageInfo", "connection", "wants_total"]

NodeT = TypeVar("NodeT")


# Cursors are encoded only when a client selects them (``edges { cursor }``,
# ``startCursor``, ``endCursor``), and the total is counted only when selected.


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    page: strawberry.Private[pagination.CursorPage[Any]]

    @strawberry.field
    def has_next_page(self) -> bool:
        return self.page.has_next_page

    @strawberry.field
    def has_previous_page(self) -> bool:
        return self.page.has_previous_page

    @strawberry.field
    def start_cursor(self) -> str | None:
        return self.page.start_cursor

    @strawberry.field
    def end_cursor(self) -> str | None:
        return self.page.end_cursor


@strawberry.type(description="A node with the cursor that points at it.")
class Edge(Generic[NodeT]):
    node: NodeT
    source: strawberry.Private[pagination.CursorItem[Any]]

    @strawberry.field
    def cursor(self) -> str:
        return self.source.cursor


@strawberry.type(description="One page of a list: `first`/`after` forward, `last`/`before` back.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    nodes: list[NodeT]
    page_info: PageInfo
    count: strawberry.Private[int | None]

    @field("The size of the whole list, not the page.")
    def total_count(self) -> int:
        if self.count is None:  # the resolver did not see it selected (wants_total)
            raise RuntimeError("totalCount was not fetched")
        return self.count


def connection(page: pagination.CursorPage[Any], nodes: Sequence[NodeT]) -> Connection[NodeT]:
    """The GraphQL form of a page, given its nodes already converted, in the page's order."""
    edges = [Edge(node=node, source=edge) for node, edge in zip(nodes, page.edges, strict=True)]
    return Connection(
        edges=edges,
        nodes=[edge.node for edge in edges],
        page_info=PageInfo(page=page),
        count=page.total_count,
    )


def wants_total(info: Info[Any, Any]) -> bool:
    """Whether the connection field being resolved selects ``totalCount``."""
    return "totalCount" in selected_names(info, ())
