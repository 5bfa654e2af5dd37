"""The load test's clients, each run in a process of its own by ``benchmarks.load``.

- ``mixed_traffic``: asyncio workers sending a weighted mix of REST and GraphQL requests;
- ``login_storm``: clients logging in back to back with a correct password;
- ``hello_probe``: ``GET /api/hello`` at a steady rate, its latency measured;
- ``attack``: a few clients sending, back to back, the most expensive GraphQL
  documents the gateway's limits admit (``ATTACKS``), while ``hello_probe``
  measures ``GET /healthz``.

Each waits until ``start_at`` (``time.monotonic()``, which on Linux is one clock
for every process) so that the parent can sample the gateway's memory over the
same span. An error is a transport failure, a status outside 2xx, or a GraphQL
answer carrying ``errors``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import random
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import httpx
from graphql import Lexer, Source, TokenKind, get_introspection_query

from benchmarks.client import graphql_body
from benchmarks.scenarios import products_query, users_query
from gateway.config import Settings
from schema.documents import ShapeLimits

__all__ = [
    "ATTACKS",
    "MIX",
    "Attack",
    "AttackKindResult",
    "AttackResult",
    "Fixtures",
    "KindResult",
    "Latency",
    "LoginStormResult",
    "MixedResult",
    "ProbeResult",
    "attack",
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
class LoginStormResult:
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
    path: str = "/api/hello"


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
) -> LoginStormResult:
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
    return LoginStormResult(clients, elapsed, tally.errors, latency, tuple(examples))


def login_storm(
    fixtures: Fixtures, clients: int, start_at: float, duration_s: float
) -> LoginStormResult:
    """The login storm, in this process (blocks until done)."""
    return asyncio.run(_storm(fixtures, clients, start_at, duration_s))


def hello_probe(
    url: str, rate: float, start_at: float, duration_s: float, path: str = "/api/hello"
) -> ProbeResult:
    """``GET path`` (``/api/hello``) every ``1 / rate`` seconds on one kept-alive connection.

    A request's latency runs from when it was due, not from when it was sent:
    a stall that delays the following requests counts in each of them, as it
    would for clients arriving at that rate.
    """
    samples: list[float] = []
    errors = 0
    with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
        client.get(path)  # open the connection before the clock starts
        time.sleep(max(start_at - time.monotonic(), 0.0))
        for n in range(int(duration_s * rate)):
            due = start_at + n / rate
            time.sleep(max(due - time.monotonic(), 0.0))
            try:
                ok = client.get(path).status_code == 200
            except httpx.HTTPError:
                ok = False
            samples.append((time.monotonic() - due) * 1000)
            errors += not ok
    return ProbeResult(rate, errors, Latency.of(samples), path)


# The attack: the most expensive documents the gateway's limits admit (schema/cost.py,
# schema/documents.py). The cost model's figures are in each builder's docstring.
_LIMITS = Settings()
_PRODUCT_FIELDS = "id name category price description createdAt updatedAt"  # 7 fields
_ALIASED_PAGES = 28  # 28 x (1 + 1 + 100 x 7) = 19,656 <= 20,000; aliases cap: 30
_SHAPE = ShapeLimits()  # the caps the gateway's documents are held to
_SAME_NAME = _SHAPE.same_name  # a response name this many times in a selection set...
_SPREADS = min(_SHAPE.spreads, _SHAPE.spreads_total // _SHAPE.same_name)
# The largest page that keeps the shape document within the cost cap:
# same_name x (1 + 1 + page x (same_name + spreads x 7)).
_SHAPE_PAGE = min((_LIMITS.graphql_max_cost // _SAME_NAME - 2) // (_SAME_NAME + _SPREADS * 7), 100)
_SHORT_FIELDS = "id name category price createdAt updatedAt"
_INTROSPECTION = get_introspection_query()


def _users_posts(f: Fixtures, rng: random.Random) -> Request:
    """98 users, each with their posts (counted as 100): 2 + 98 x (2 + 1 + 100 x 2) = 19,896."""
    return _graphql("{ users(first: 98) { nodes { id name posts { id title } } } }", f.bearer())


def _aliased_pages(f: Fixtures, rng: random.Random) -> Request:
    """28 full pages of products, one per category: 28 x 702 = 19,656."""
    pages = " ".join(
        f'p{n}: products(first: 100, category: "{f.categories[n % len(f.categories)]}") '
        f"{{ nodes {{ {_PRODUCT_FIELDS} }} }}"
        for n in range(_ALIASED_PAGES)
    )
    return _graphql("{ " + pages + " }")


def _long_literal(f: Fixtures, rng: random.Random) -> Request:
    """A document of the largest size allowed, a new one each time: a long string literal."""
    frame = '{ product(id: "") { id } }'
    pad = rng.randbytes((_LIMITS.graphql_max_document_bytes - len(frame)) // 2).hex()
    return _graphql(frame.replace('""', f'"{pad}"'))


def _tokens(document: str) -> int:
    """The tokens of ``document``, as graphql-core counts them against ``max_tokens``."""
    lexer, count = Lexer(Source(document)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


@functools.cache
def _token_aliases() -> int:
    """The most aliased pages ``_many_tokens`` may hold within the tokens, bytes and alias caps."""
    rng = random.Random(0)  # noqa: S311 - not a secret
    for count in range(_LIMITS.graphql_max_aliases, 0, -1):
        document = _token_document(rng, count)
        if (
            _tokens(document) <= _LIMITS.graphql_max_tokens
            and len(document.encode()) <= _LIMITS.graphql_max_document_bytes
        ):
            return count
    return 1


def _many_tokens(f: Fixtures, rng: random.Random) -> Request:
    """Close to the tokens cap, a new one each time: aliased pages, each field repeated."""
    return _graphql(_token_document(rng, _token_aliases()))


def _token_document(rng: random.Random, aliases: int) -> str:
    """``aliases`` pages of an unknown category, each field ``_SAME_NAME`` times."""
    repeated = " ".join(" ".join([name] * _SAME_NAME) for name in _SHORT_FIELDS.split())
    cursors = " ".join(["cursor"] * _SAME_NAME)
    marker = rng.randbytes(8).hex()
    pages = " ".join(
        f'a{n}: products(first: 1, category: "{marker}") '
        f"{{ totalCount nodes {{ {repeated} }} edges {{ {cursors} node {{ {repeated} }} }} }}"
        for n in range(aliases)
    )
    return "{ " + pages + " }"


def _shape_caps(f: Fixtures, rng: random.Random) -> Request:
    """The shape caps, new fragment names each time: ``products`` ``_SAME_NAME`` times, each
    with ``id`` as often and ``_SPREADS`` fragment spreads, pages as large as the cost allows."""
    tag = rng.randbytes(6).hex()
    spreads = " ".join(f"...F{tag}{n}" for n in range(_SPREADS))
    ids = " ".join(["id"] * _SAME_NAME)
    category = f.categories[0]
    field = (
        f'products(first: {_SHAPE_PAGE}, category: "{category}") {{ nodes {{ {ids} {spreads} }} }}'
    )
    fragments = " ".join(
        f"fragment F{tag}{n} on Product {{ {_PRODUCT_FIELDS} }}" for n in range(_SPREADS)
    )
    return _graphql("{ " + " ".join([field] * _SAME_NAME) + " } " + fragments)


@dataclass(frozen=True)
class Attack:
    """A kind of expensive document; ``distinct``: a new text each time (no cache helps)."""

    title: str
    build: Builder
    distinct: bool


ATTACKS: tuple[Attack, ...] = (
    Attack("users(first: 98) { nodes { id name posts { id title } } } (signed in)",
           _users_posts, distinct=False),
    Attack(f"{_ALIASED_PAGES} aliased products(first: 100) pages", _aliased_pages, distinct=False),
    Attack(f"product(id: <string literal>), {_LIMITS.graphql_max_document_bytes:,} bytes",
           _long_literal, distinct=True),
    Attack(f"aliased products pages, each field {_SAME_NAME} times (tokens cap "
           f"{_LIMITS.graphql_max_tokens:,})",
           _many_tokens, distinct=True),
    Attack(f"products(first: {_SHAPE_PAGE}) {_SAME_NAME} times, id {_SAME_NAME} times, "
           f"{_SPREADS} fragment spreads",
           _shape_caps, distinct=True),
    Attack("full introspection query (GraphiQL's)", lambda f, rng: _graphql(_INTROSPECTION),
           distinct=False),
)  # fmt: skip


@dataclass
class _AttackTally:
    """One kind of attack document's answers, as they come in."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)  # 0: no answer
    graphql_errors: int = 0
    costs: set[int] = field(default_factory=set)
    document_bytes: int = 0


@dataclass(frozen=True)
class AttackKindResult:
    """One kind of attack document over the whole run."""

    title: str
    distinct: bool
    document_bytes: int
    statuses: Mapping[int, int]
    graphql_errors: int
    costs: tuple[int, ...]
    latency: Latency

    def count(self, low: int, high: int) -> int:
        """Answers with a status from ``low`` to ``high`` (0: no answer)."""
        return sum(n for status, n in self.statuses.items() if low <= status <= high)


@dataclass(frozen=True)
class AttackResult:
    """The attack: every kind of document, and a few of the failures."""

    clients: int
    duration_s: float
    kinds: tuple[AttackKindResult, ...]
    examples: tuple[str, ...]

    @property
    def requests(self) -> int:
        """Requests answered or failed."""
        return sum(kind.latency.count for kind in self.kinds)

    def count(self, low: int, high: int) -> int:
        """Answers with a status from ``low`` to ``high``, over every kind."""
        return sum(kind.count(low, high) for kind in self.kinds)

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.duration_s


async def _attack_one(
    client: httpx.AsyncClient, request: Request, tally: _AttackTally, examples: list[str],
    title: str,
) -> None:  # fmt: skip
    """Send one attack document and tally its answer."""
    started = time.perf_counter()
    status, problem = 0, None
    try:
        response = await client.request(
            request.method, request.path, content=request.body, headers=request.headers
        )
        status = response.status_code
        body = response.json()
        if body.get("errors"):
            tally.graphql_errors += 1
            problem = f"{status}: {response.text[:200]}"
        cost = (body.get("extensions") or {}).get("cost")
        if isinstance(cost, int):
            tally.costs.add(cost)
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: a body that is not JSON
        problem = f"{type(exc).__name__}: {exc}"
    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
    tally.statuses[status] = tally.statuses.get(status, 0) + 1
    if problem is not None and len(examples) < _EXAMPLES:
        examples.append(f"{title}: {problem}")


async def _attacker(
    client: httpx.AsyncClient, fixtures: Fixtures, rng: random.Random, first: int, until: float,
    tallies: dict[str, _AttackTally], examples: list[str],
) -> None:  # fmt: skip
    """Send the attack documents in turn, from the ``first``th, one after another."""
    n = first
    while time.monotonic() < until:
        kind = ATTACKS[n % len(ATTACKS)]
        request = kind.build(fixtures, rng)
        tally = tallies[kind.title]
        tally.document_bytes = len(json.loads(request.body or b"{}")["query"].encode())
        await _attack_one(client, request, tally, examples, kind.title)
        n += 1


def _attack_kind(kind: Attack, tally: _AttackTally) -> AttackKindResult:
    """One kind's tally, as a result."""
    return AttackKindResult(
        kind.title, kind.distinct, tally.document_bytes, dict(sorted(tally.statuses.items())),
        tally.graphql_errors, tuple(sorted(tally.costs)), Latency.of(tally.latencies_ms),
    )  # fmt: skip


async def _attack(
    fixtures: Fixtures, clients: int, start_at: float, duration_s: float, seed: int
) -> AttackResult:
    """``clients`` attackers for ``duration_s`` from ``start_at``."""
    tallies = {kind.title: _AttackTally() for kind in ATTACKS}
    examples: list[str] = []
    rngs = [random.Random(seed + n) for n in range(clients)]  # noqa: S311 - not a secret
    async with _client(fixtures.url, clients) as client:
        await _sleep_until(start_at)
        until = start_at + duration_s
        await asyncio.gather(
            *(
                _attacker(client, fixtures, rng, n, until, tallies, examples)
                for n, rng in enumerate(rngs)
            )
        )
        elapsed = time.monotonic() - start_at
    kinds = tuple(_attack_kind(kind, tallies[kind.title]) for kind in ATTACKS)
    return AttackResult(clients, elapsed, kinds, tuple(examples))


def attack(
    fixtures: Fixtures, clients: int, start_at: float, duration_s: float, seed: int = 7
) -> AttackResult:
    """The attack, in this process (blocks until done)."""
    return asyncio.run(_attack(fixtures, clients, start_at, duration_s, seed))
