"""The load test's clients, each run in a process of its own by ``benchmarks.load``.

- ``mixed_traffic``: asyncio workers sending a weighted mix of REST and GraphQL requests;
- ``login_storm``: clients logging in back to back with a correct password;
- ``hello_probe``: ``GET /api/hello`` at a steady rate, its latency measured.

Each waits until ``start_at`` (``time.monotonic()``, which on Linux is one clock
for every process) so that the parent can sample the gateway's memory over the
same span. An error is a transport failure, a status outside 2xx, or a GraphQL
answer carrying ``errors``.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import httpx

from benchmarks.client import graphql_body
from benchmarks.scenarios import products_query, users_query

__all__ = [
    "MIX",
    "Fixtures",
    "KindResult",
    "Latency",
    "LoginResult",
    "MixedResult",
    "ProbeResult",
    "hello_probe",
    "login_storm",
    "mixed_traffic",
]

TIMEOUT_S = 30.0
# uvicorn closes a connection idle for 5 s; a client keeping it exactly as long
# may send on it as it closes (a ReadError that is no fault of the gateway).
KEEPALIVE_S = 4.0
UPLOAD_BYTES = 4 * 1024
PAGE_SIZE = 10
_EXAMPLES = 5  # error answers kept for the report
_JSON = {"Content-Type": "application/json"}
_CREATE_POST = (
    'mutation { createPost(input: {title: "Load test", content: "Written under load."}) { id } }'
)
_CONTACT = json.dumps(
    {"name": "Load Test", "email": "load@example.com", "message": "Sent by the load test."}
).encode()


@dataclass(frozen=True)
class Fixtures:
    """What the clients use on the seeded gateway: a signed-in user, ids to read, a file."""

    url: str
    email: str
    password: str
    token: str
    user_ids: tuple[str, ...]
    user_pages: int
    product_ids: tuple[str, ...]
    product_pages: int
    categories: tuple[str, ...]
    category_pages: int
    download_path: str

    def bearer(self) -> dict[str, str]:
        """The signed-in user's Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Request:
    """One HTTP request to send."""

    method: str
    path: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


Builder = Callable[[Fixtures, random.Random], Request]


@dataclass(frozen=True)
class Kind:
    """A kind of request in the mix, drawn ``weight`` times in ``sum(weights)``."""

    title: str
    weight: int
    build: Builder

    @property
    def is_graphql(self) -> bool:
        """Whether the answer is GraphQL's (200 with ``errors`` is a failure)."""
        return self.title.startswith("GraphQL")


def _page(pages: int, rng: random.Random) -> int:
    """A page number from 1 to ``pages``."""
    return rng.randint(1, max(pages, 1))


def _graphql(query: str, headers: Mapping[str, str] | None = None) -> Request:
    """A GraphQL request POSTed as JSON."""
    return Request("POST", "/graphql", graphql_body(query), {**_JSON, **(headers or {})})


def _upload(f: Fixtures, rng: random.Random) -> Request:
    """A small raw-body upload to a path of its own."""
    headers = {**f.bearer(), "Content-Type": "application/octet-stream"}
    body = rng.randbytes(UPLOAD_BYTES)
    return Request("POST", f"/api/files/load/up/{secrets.token_hex(8)}.bin", body, headers)


MIX: tuple[Kind, ...] = (
    Kind("GET /api/hello", 15, lambda f, rng: Request("GET", "/api/hello")),
    Kind(
        "GET /api/products?page=N&limit=10",
        10,
        lambda f, rng: Request(
            "GET", f"/api/products?page={_page(f.product_pages, rng)}&limit={PAGE_SIZE}"
        ),
    ),
    Kind(
        "GET /api/products?category=C&page=N&limit=10",
        5,
        lambda f, rng: Request(
            "GET",
            f"/api/products?category={rng.choice(f.categories)}"
            f"&page={_page(f.category_pages, rng)}&limit={PAGE_SIZE}",
        ),
    ),
    Kind(
        "GET /api/products/ID",
        10,
        lambda f, rng: Request("GET", f"/api/products/{rng.choice(f.product_ids)}"),
    ),
    Kind(
        "GET /api/users?page=N&limit=10 (signed in)",
        5,
        lambda f, rng: Request(
            "GET", f"/api/users?page={_page(f.user_pages, rng)}&limit={PAGE_SIZE}", None, f.bearer()
        ),
    ),
    Kind(
        "GET /api/users/ID (signed in)",
        5,
        lambda f, rng: Request("GET", f"/api/users/{rng.choice(f.user_ids)}", None, f.bearer()),
    ),
    Kind("POST /api/contact", 3, lambda f, rng: Request("POST", "/api/contact", _CONTACT, _JSON)),
    Kind(f"POST /api/files/<new path> ({UPLOAD_BYTES // 1024} KiB)", 3, _upload),
    Kind(
        f"GET /api/files/<path> ({UPLOAD_BYTES // 1024} KiB)",
        4,
        lambda f, rng: Request("GET", f"/api/files/{f.download_path}"),
    ),
    Kind("GraphQL { hello }", 10, lambda f, rng: _graphql("{ hello }")),
    Kind("GraphQL products(first: 10)", 10, lambda f, rng: _graphql(products_query())),
    Kind(
        "GraphQL users(first: 20) nested (signed in)",
        5,
        lambda f, rng: _graphql(users_query(20), f.bearer()),
    ),
    Kind("GraphQL createPost (signed in)", 3, lambda f, rng: _graphql(_CREATE_POST, f.bearer())),
)


@dataclass(frozen=True)
class Latency:
    """Percentiles of a set of latencies, in milliseconds."""

    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, samples_ms: Iterable[float]) -> Latency:
        """Nearest-rank percentiles of ``samples_ms`` (all zero when there are none)."""
        ordered = sorted(samples_ms)
        if not ordered:
            return cls(0, 0.0, 0.0, 0.0)

        def rank(percent: float) -> float:
            return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]

        return cls(len(ordered), rank(50), rank(99), ordered[-1])


@dataclass
class _Tally:
    """Latencies and errors of one kind of request, as they come in."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0


@dataclass(frozen=True)
class KindResult:
    """One kind of request over the whole run."""

    title: str
    weight: int
    errors: int
    latency: Latency


@dataclass(frozen=True)
class MixedResult:
    """The mixed traffic run: every kind, and a few of the failed answers."""

    duration_s: float
    workers: int
    kinds: tuple[KindResult, ...]
    error_examples: tuple[str, ...]

    @property
    def requests(self) -> int:
        """Requests answered or failed."""
        return sum(kind.latency.count for kind in self.kinds)

    @property
    def errors(self) -> int:
        """Failed requests."""
        return sum(kind.errors for kind in self.kinds)

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.duration_s


@dataclass(frozen=True)
class LoginResult:
    """The login storm: logins completed and how long each took."""

    clients: int
    duration_s: float
    errors: int
    latency: Latency
    error_examples: tuple[str, ...]

    @property
    def per_second(self) -> float:
        """Successful logins per second."""
        return (self.latency.count - self.errors) / self.duration_s


@dataclass(frozen=True)
class ProbeResult:
    """``GET /api/hello`` at a steady rate: latency from each request's scheduled start."""

    rate: float
    errors: int
    latency: Latency


def _problem(response: httpx.Response, graphql: bool) -> str | None:
    """Why an answer is a failure, or None."""
    if not 200 <= response.status_code < 300:
        return f"{response.status_code}: {response.text[:200]}"
    if graphql and response.json().get("errors"):
        return f"GraphQL errors: {response.text[:200]}"
    return None


async def _send(
    client: httpx.AsyncClient, request: Request, graphql: bool = False
) -> tuple[float, str | None]:
    """Send ``request``: its latency in ms and its problem (None when it succeeded)."""
    started = time.perf_counter()
    try:
        response = await client.request(
            request.method, request.path, content=request.body, headers=request.headers
        )
        problem = _problem(response, graphql)
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: a body that is not JSON
        problem = f"{type(exc).__name__}: {exc}"
    return (time.perf_counter() - started) * 1000, problem


def _client(url: str, connections: int) -> httpx.AsyncClient:
    """An async client keeping ``connections`` connections to the gateway open."""
    limits = httpx.Limits(
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=KEEPALIVE_S,
    )
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=TIMEOUT_S)


async def _sleep_until(moment: float) -> None:
    """Wait until ``time.monotonic()`` reaches ``moment``."""
    await asyncio.sleep(max(moment - time.monotonic(), 0.0))


async def _mix_worker(
    client: httpx.AsyncClient,
    fixtures: Fixtures,
    rng: random.Random,
    until: float,
    tallies: dict[str, _Tally],
    examples: list[str],
) -> None:
    """Send requests drawn from ``MIX`` one after another until ``until``."""
    weights = [kind.weight for kind in MIX]
    while time.monotonic() < until:
        kind = rng.choices(MIX, weights)[0]
        latency_ms, problem = await _send(client, kind.build(fixtures, rng), kind.is_graphql)
        tally = tallies[kind.title]
        tally.latencies_ms.append(latency_ms)
        if problem is not None:
            tally.errors += 1
            if len(examples) < _EXAMPLES:
                examples.append(f"{kind.title}: {problem}")


async def _mixed(
    fixtures: Fixtures, workers: int, start_at: float, duration_s: float, seed: int
) -> MixedResult:
    """Run ``workers`` mix workers for ``duration_s`` from ``start_at``."""
    tallies = {kind.title: _Tally() for kind in MIX}
    examples: list[str] = []
    rngs = [random.Random(seed + n) for n in range(workers)]  # noqa: S311 - a mix, not a secret
    async with _client(fixtures.url, workers) as client:
        await _sleep_until(start_at)
        until = start_at + duration_s
        await asyncio.gather(
            *(_mix_worker(client, fixtures, rng, until, tallies, examples) for rng in rngs)
        )
        elapsed = time.monotonic() - start_at
    kinds = tuple(
        KindResult(
            kind.title,
            kind.weight,
            tallies[kind.title].errors,
            Latency.of(tallies[kind.title].latencies_ms),
        )
        for kind in MIX
    )
    return MixedResult(elapsed, workers, kinds, tuple(examples))


def mixed_traffic(
    fixtures: Fixtures, workers: int, start_at: float, duration_s: float, seed: int = 1
) -> MixedResult:
    """The mixed REST and GraphQL traffic, in this process (blocks until done)."""
    return asyncio.run(_mixed(fixtures, workers, start_at, duration_s, seed))


async def _login_client(
    client: httpx.AsyncClient, login: Request, until: float, tally: _Tally, examples: list[str]
) -> None:
    """Log in again and again until ``until``."""
    while time.monotonic() < until:
        latency_ms, problem = await _send(client, login)
        tally.latencies_ms.append(latency_ms)
        if problem is not None:
            tally.errors += 1
            if len(examples) < _EXAMPLES:
                examples.append(problem)


async def _storm(
    fixtures: Fixtures, clients: int, start_at: float, duration_s: float
) -> LoginResult:
    """``clients`` concurrent login loops for ``duration_s`` from ``start_at``."""
    body = json.dumps({"email": fixtures.email, "password": fixtures.password}).encode()
    login = Request("POST", "/api/auth/login", body, _JSON)
    tally, examples = _Tally(), list[str]()
    async with _client(fixtures.url, clients) as client:
        await _sleep_until(start_at)
        until = start_at + duration_s
        await asyncio.gather(
            *(_login_client(client, login, until, tally, examples) for _ in range(clients))
        )
        elapsed = time.monotonic() - start_at
    latency = Latency.of(tally.latencies_ms)
    return LoginResult(clients, elapsed, tally.errors, latency, tuple(examples))


def login_storm(
    fixtures: Fixtures, clients: int, start_at: float, duration_s: float
) -> LoginResult:
    """The login storm, in this process (blocks until done)."""
    return asyncio.run(_storm(fixtures, clients, start_at, duration_s))


def hello_probe(url: str, rate: float, start_at: float, duration_s: float) -> ProbeResult:
    """``GET /api/hello`` every ``1 / rate`` seconds on one kept-alive connection.

    A request's latency runs from when it was due, not from when it was sent:
    a stall that delays the following requests counts in each of them, as it
    would for clients arriving at that rate.
    """
    samples: list[float] = []
    errors = 0
    with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
        client.get("/api/hello")  # open the connection before the clock starts
        time.sleep(max(start_at - time.monotonic(), 0.0))
        for n in range(int(duration_s * rate)):
            due = start_at + n / rate
            time.sleep(max(due - time.monotonic(), 0.0))
            try:
                ok = client.get("/api/hello").status_code == 200
            except httpx.HTTPError:
                ok = False
            samples.append((time.monotonic() - due) * 1000)
            errors += not ok
    return ProbeResult(rate, errors, Latency.of(samples))
