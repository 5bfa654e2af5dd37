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
    gateway_name: str = "gateway"


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
    Pairing("GET /api/hello", "serve1-hello", "serve2-hello", "2 workers", "1 worker"),
    Pairing("GraphQL products(first: 10)", "serve1-gql-products", "serve2-gql-products",
            "2 workers", "1 worker"),
)  # fmt: skip


def _served(workers: int, products: bytes) -> tuple[Scenario, Scenario]:
    """The greeting and the GraphQL products page from ``gateway serve --workers N``."""
    server, title = f"gateway-serve-{workers}", f"gateway serve --workers {workers}"
    return (
        Scenario(f"serve{workers}-hello", f"{title}: GET /api/hello", server),
        Scenario(
            f"serve{workers}-gql-products", f"{title}: GraphQL products(first: 10)", server,
            "POST", "/graphql", products, (JSON,),
        ),
    )  # fmt: skip


def peer_scenarios(f: Fixtures) -> list[Scenario]:
    """The scenarios of the Next.js and Apollo peers, and of ``gateway serve`` with one
    worker and with two.

    They follow the gateway's in each round, the legacy countDocuments page last.
    """
    products = graphql_body(products_query())
    return [
        Scenario("next-hello", "Next.js: GET /api/hello", "nextjs"),
        Scenario(
            "next-products-aggregate",
            f"Next.js, counting with an aggregate: GET /api/products-aggregate?{PRODUCTS_PAGE}",
            "nextjs", path=f"/api/products-aggregate?{PRODUCTS_PAGE}",
        ),
        Scenario(
            "next-user", "Next.js: GET /api/users/ID", "nextjs", path=f"/api/users/{f.user_id}"
        ),
        Scenario(
            "apollo-products", "Apollo Server 5: GraphQL products(first: 10)", "apollo", "POST",
            "/graphql", products, (JSON,),
        ),
        *_served(1, products),
        *_served(2, products),
        # Last of a round: the database goes on counting for seconds after wrk stops,
        # and the references, which use no database, come next.
        Scenario(
            "next-products", f"Next.js, countDocuments: GET /api/products?{PRODUCTS_PAGE}",
            "nextjs", path=f"/api/products?{PRODUCTS_PAGE}",
        ),
    ]  # fmt: skip
