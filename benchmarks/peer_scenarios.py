"""The peers' scenarios, and the gateway with two workers, beside the gateway's own.

Each peer scenario does the work of a gateway scenario (``Pairing``): the same
route and page, on the same database, so their figures compare directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.client import graphql_body
from benchmarks.scenarios import JSON, Fixtures, Scenario, products_query

__all__ = ["PAIRINGS", "WORKER_PAIRINGS", "Pairing", "peer_scenarios"]

PRODUCTS_PAGE = "page=2&limit=10"


@dataclass(frozen=True)
class Pairing:
    """A gateway scenario and a peer's (or the gateway's workers') doing the same work."""

    route: str  # what both serve, as the chart and tables name it
    gateway: str  # the gateway scenario's key
    peer: str  # the peer scenario's key
    peer_name: str


PAIRINGS = (
    Pairing("GET /api/hello", "hello", "next-hello", "Next.js"),
    Pairing(f"GET /api/products?{PRODUCTS_PAGE}", "products", "next-products-aggregate",
            "Next.js, aggregate count"),
    Pairing(f"GET /api/products?{PRODUCTS_PAGE}", "products", "next-products",
            "Next.js, countDocuments"),
    Pairing("GET /api/users/ID", "user", "next-user", "Next.js"),
    Pairing("GraphQL products(first: 10)", "gql-products", "apollo-products", "Apollo Server 5"),
)  # fmt: skip
WORKER_PAIRINGS = (
    Pairing("GET /api/hello", "hello", "workers-hello", "gateway, 2 workers"),
    Pairing("GraphQL products(first: 10)", "gql-products", "workers-gql-products",
            "gateway, 2 workers"),
)  # fmt: skip


def peer_scenarios(f: Fixtures) -> list[Scenario]:
    """The scenarios of the Next.js and Apollo peers and of the two-worker gateway."""
    products = graphql_body(products_query())
    return [
        Scenario("next-hello", "Next.js: GET /api/hello", "nextjs"),
        Scenario(
            "next-products-aggregate",
            f"Next.js, counting with an aggregate: GET /api/products-aggregate?{PRODUCTS_PAGE}",
            "nextjs", path=f"/api/products-aggregate?{PRODUCTS_PAGE}",
        ),
        Scenario(
            "next-products", f"Next.js, countDocuments: GET /api/products?{PRODUCTS_PAGE}",
            "nextjs", path=f"/api/products?{PRODUCTS_PAGE}",
        ),
        Scenario(
            "next-user", "Next.js: GET /api/users/ID", "nextjs", path=f"/api/users/{f.user_id}"
        ),
        Scenario(
            "apollo-products", "Apollo Server 5: GraphQL products(first: 10)", "apollo", "POST",
            "/graphql", products, (JSON,),
        ),
        Scenario("workers-hello", "gateway, 2 workers: GET /api/hello", "gateway-workers"),
        Scenario(
            "workers-gql-products", "gateway, 2 workers: GraphQL products(first: 10)",
            "gateway-workers", "POST", "/graphql", products, (JSON,),
        ),
    ]  # fmt: skip
