"""What is measured: the scenarios, the data they need, and a check that each one works."""

from __future__ import annotations

import hashlib
import json
import secrets
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from benchmarks.client import Reply, call, graphql, graphql_body

__all__ = [
    "LARGE_FILE_BYTES",
    "UPLOAD_BYTES",
    "Fixtures",
    "Scenario",
    "build_scenarios",
    "deep_cursor",
    "prepare_fixtures",
    "problem",
    "products_query",
    "send",
    "users_query",
]

JSON = "Content-Type: application/json"
UPLOAD_BYTES = 1024 * 1024
LARGE_FILE_BYTES = 50 * 1024 * 1024  # its last UPLOAD_BYTES are read by range
DEEP_ITEM = 9000  # the deep page starts after this many products
WALK_PAGE = 100  # the largest page the schema allows
CATEGORY = "books"  # one of the seeded categories (500 products each)
WALK_QUERY = (
    "query Walk($after: String) { products(first: " + str(WALK_PAGE) + ", after: $after) "
    "{ pageInfo { endCursor } } }"
)


def products_query(after: str | None = None) -> str:
    """Ten products (the first page, or the page after the cursor ``after``)."""
    arguments = "first: 10" if after is None else f'first: 10, after: "{after}"'
    return "{ products(" + arguments + ") { nodes { id name category price } } }"


def persisted(query: str) -> dict[str, object]:
    """Apollo's persisted-query extension naming ``query`` by its hash."""
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def users_query(first: int) -> str:
    """The nested users query: each user with their posts and profile."""
    return "{ users(first: " + str(first) + ") { nodes { name posts { title } profile { bio } } } }"


@dataclass(frozen=True)
class Fixtures:
    """Data the scenarios use, made once the database is seeded."""

    email: str
    password: str
    token: str
    user_id: str
    download_path: str
    large_path: str
    deep_cursor: str | None
    product_id: str
    product_etag: str

    @property
    def bearer(self) -> str:
        """The Authorization header of the signed-in user, for wrk."""
        return f"Authorization: Bearer {self.token}"


@dataclass(frozen=True)
class Scenario:
    """One kind of request, sent by wrk to one server; ``expect`` is its success status."""

    key: str
    title: str
    server: str
    method: str = "GET"
    path: str = "/api/hello"
    body: bytes | None = None
    headers: tuple[str, ...] = ()
    expect: int = 200
    upload_bytes: int = 0  # > 0: each request uploads that many bytes to a path of its own

    @property
    def is_graphql(self) -> bool:
        """Whether the request goes to /graphql (200 with errors is a failure there)."""
        return self.path.split("?")[0] == "/graphql"

    @property
    def script(self) -> str:
        """The wrk Lua script (in ``benchmarks/lua``) that sends it."""
        return "upload.lua" if self.upload_bytes else "request.lua"

    def wrk_args(self, body_file: Path | None, unique: str) -> list[str]:
        """The script's arguments; ``unique`` keeps one run's upload paths apart from another's."""
        if self.upload_bytes:
            return [f"{self.path}{unique}/", str(self.upload_bytes), *self.headers]
        return [self.method, self.path, str(body_file or ""), *self.headers]


def _sign_up(url: str) -> tuple[str, str, str]:
    """Create a user through the API and log in: its email, password and token."""
    email = f"bench-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(16)
    account = {"name": "Bench User", "email": email, "password": password}
    created = call(url, "POST", "/api/users", json.dumps(account).encode(), _json_header())
    _expect(created, 201, "POST /api/users")
    login = _login(url, email, password)
    _expect(login, 200, "POST /api/auth/login")
    return email, password, str(login.json()["token"])


def _login(url: str, email: str, password: str) -> Reply:
    """POST the credentials to the login route."""
    body = json.dumps({"email": email, "password": password}).encode()
    return call(url, "POST", "/api/auth/login", body, _json_header())


def _json_header() -> dict[str, str]:
    """The Content-Type of a JSON body."""
    return {"Content-Type": "application/json"}


def _expect(reply: Reply, status: int, what: str) -> None:
    """Stop the benchmark when a setup step did not answer ``status``."""
    if reply.status != status:
        raise SystemExit(f"setup failed: {what} answered {reply.status}: {reply.body[:300]!r}")


def _demo_user_id(url: str, token: str) -> str:
    """The id of the oldest seeded user (who has posts and a profile)."""
    reply = call(
        url, "GET", "/api/users?page=1&limit=1", headers={"Authorization": f"Bearer {token}"}
    )
    _expect(reply, 200, "GET /api/users")
    return str(reply.json()[0]["id"])


def _product_and_tag(url: str) -> tuple[str, str]:
    """A seeded product's id and its current ``ETag`` (for the conditional GET)."""
    page = call(url, "GET", "/api/products?page=1&limit=1")
    _expect(page, 200, "GET /api/products")
    product_id = str(page.json()["products"][0]["id"])
    reply = call(url, "GET", f"/api/products/{product_id}")
    _expect(reply, 200, "GET /api/products/ID")
    return product_id, reply.headers["etag"]


def _upload(url: str, token: str, path: str, size: int) -> Reply:
    """Store ``size`` bytes at ``/api/files/<path>``."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"}
    return call(url, "POST", f"/api/files/{path}", b"\x5a" * size, headers)


def deep_cursor(url: str) -> str | None:
    """The cursor after product ``DEEP_ITEM``, walking pages of ``WALK_PAGE``.

    None when ``/graphql`` is not served (404): the GraphQL scenarios then
    report themselves unavailable.
    """
    cursor: str | None = None
    for _ in range(DEEP_ITEM // WALK_PAGE):
        reply = graphql(url, WALK_QUERY, variables={"after": cursor} if cursor else None)
        if reply.status == 404:
            return None
        _expect(reply, 200, "walking products with GraphQL")
        if reply.json().get("errors"):
            raise SystemExit(f"setup failed: walking products: {reply.body[:300]!r}")
        cursor = reply.json()["data"]["products"]["pageInfo"]["endCursor"]
    return cursor


def _register_persisted(url: str, query: str) -> None:
    """Send ``query`` with its hash once, so that the hash alone names it afterwards."""
    body = json.dumps({"query": query, "extensions": persisted(query)}).encode()
    reply = call(url, "POST", "/graphql", body, _json_header())
    if reply.status == 404:
        return  # /graphql not served: its scenarios report themselves unavailable
    _expect(reply, 200, "registering a persisted query")


def prepare_fixtures(url: str, tag: str) -> Fixtures:
    """Sign a user up, pick a seeded user, store a file to download, find a deep cursor,
    register the products query as a persisted query."""
    email, password, token = _sign_up(url)
    _register_persisted(url, products_query())
    download_path = f"bench/{tag}/download.bin"
    _expect(_upload(url, token, download_path, UPLOAD_BYTES), 201, "POST /api/files/...")
    large_path = f"bench/{tag}/large.bin"
    _expect(_upload(url, token, large_path, LARGE_FILE_BYTES), 201, "POST /api/files/... (50 MB)")
    product_id, product_etag = _product_and_tag(url)
    return Fixtures(
        email=email,
        password=password,
        token=token,
        user_id=_demo_user_id(url, token),
        download_path=download_path,
        large_path=large_path,
        deep_cursor=deep_cursor(url),
        product_id=product_id,
        product_etag=product_etag,
    )


def _graphql(key: str, title: str, query: str, *headers: str) -> Scenario:
    """A GraphQL query POSTed as JSON to the gateway."""
    return Scenario(
        key, title, "gateway", "POST", "/graphql", graphql_body(query), (JSON, *headers)
    )


def _rest(key: str, path: str, *headers: str, title: str | None = None) -> Scenario:
    """A GET of the gateway's REST API."""
    return Scenario(key, title or f"GET {path}", "gateway", path=path, headers=headers)


def build_scenarios(f: Fixtures) -> list[Scenario]:
    """Every scenario, references first, in the order each round runs them."""
    login = json.dumps({"email": f.email, "password": f.password}).encode()
    deep = products_query(f.deep_cursor or "")  # no cursor: /graphql is not served, see check
    file_headers = (f.bearer, "Content-Type: application/octet-stream")
    return [
        Scenario("ref-bare", "bare ASGI: GET /api/hello", "bare"),
        Scenario("ref-litestar", "plain Litestar: GET /api/hello", "litestar"),
        _rest("hello", "/api/hello"),
        _rest("products", "/api/products?page=2&limit=10"),
        _rest(
            "products-gzip",
            "/api/products?page=2&limit=10",
            "Accept-Encoding: gzip",
            title="GET /api/products?page=2&limit=10 (gzip)",
        ),
        _rest("products-category", f"/api/products?category={CATEGORY}&page=50&limit=10"),
        _rest("user", f"/api/users/{f.user_id}", f.bearer, title="GET /api/users/ID (signed in)"),
        _rest("product", f"/api/products/{f.product_id}", title="GET /api/products/ID (200)"),
        Scenario(
            "product-304",
            "GET /api/products/ID with its current ETag (304)",
            "gateway",
            path=f"/api/products/{f.product_id}",
            headers=(f"If-None-Match: {f.product_etag}",),
            expect=304,
        ),
        Scenario(
            "login", "POST /api/auth/login", "gateway", "POST", "/api/auth/login", login, (JSON,)
        ),
        _graphql("gql-hello", "GraphQL { hello }", "{ hello }"),
        _graphql("gql-products", "GraphQL products(first: 10)", products_query()),
        Scenario(
            "gql-products-apq",
            "GraphQL products(first: 10), persisted (POST, hash only)",
            "gateway",
            "POST",
            "/graphql",
            json.dumps({"extensions": persisted(products_query())}).encode(),
            (JSON,),
        ),
        Scenario(
            "gql-products-apq-get",
            "GraphQL products(first: 10), persisted (GET, hash only)",
            "gateway",
            path="/graphql?"
            + urllib.parse.urlencode({"extensions": json.dumps(persisted(products_query()))}),
        ),
        _graphql(
            "gql-products-deep", f"GraphQL products(first: 10, after: item {DEEP_ITEM})", deep
        ),
        _graphql(
            "gql-users", "GraphQL users(first: 20) nested (signed in)", users_query(20), f.bearer
        ),
        Scenario(
            "upload",
            "POST /api/files/<unique path> (1 MiB, signed in)",
            "gateway",
            "POST",
            "/api/files/bench/upload/",
            headers=file_headers,
            expect=201,
            upload_bytes=UPLOAD_BYTES,
        ),
        _rest("download", f"/api/files/{f.download_path}", title="GET /api/files/<path> (1 MiB)"),
        Scenario(
            "download-tail",
            "GET /api/files/<path>, the last 1 MiB of a 50 MB file (Range)",
            "gateway",
            path=f"/api/files/{f.large_path}",
            headers=(f"Range: bytes=-{UPLOAD_BYTES}",),
            expect=206,
        ),
    ]


def send(scenario: Scenario, url: str) -> Reply:
    """Send the scenario's request once (an upload goes to a path of its own)."""
    headers = dict(header.split(": ", 1) for header in scenario.headers)
    path, body = scenario.path, scenario.body
    if scenario.upload_bytes:
        path, body = f"{path}single-{secrets.token_hex(4)}", b"\x5a" * scenario.upload_bytes
    return call(url, scenario.method, path, body, headers)


def problem(scenario: Scenario, reply: Reply) -> str | None:
    """Why ``reply`` shows the scenario cannot be measured, or None if it works."""
    if reply.status != scenario.expect:
        return f"{scenario.method} {scenario.path.split('?')[0]} answered {reply.status}"
    if scenario.is_graphql:
        answer = reply.json()
        if answer.get("errors") or not answer.get("data"):
            return f"GraphQL errors: {json.dumps(answer.get('errors'))[:200]}"
    return None
