"""Settings: read once from ``GATEWAY_*`` variables (and an optional ``.env``), then passed down."""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

import msgspec
from argon2.profiles import RFC_9106_LOW_MEMORY
from dotenv import dotenv_values

__all__ = [
    "PREFIX",
    "Settings",
    "SettingsError",
    "load_settings",
    "unknown_settings",
    "with_jwt_secret",
]

PREFIX = "GATEWAY_"
MIB = 1024 * 1024
_MIN_SECRET_LENGTH = 32

log = logging.getLogger("gateway.config")

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
# "<count>/<seconds>" (at most count requests per window of seconds), or "off".
Rate = Annotated[str, msgspec.Meta(pattern=r"^(off|[1-9][0-9]{0,8}/[1-9][0-9]{0,6})$")]


class SettingsError(Exception):
    """Settings are missing or malformed; start-up stops with every problem, one a line."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else problems
        super().__init__("\n".join(self.problems))


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every knob of the gateway. Field ``x`` is read from ``GATEWAY_X``."""

    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: Port = 8000
    mongodb_uri: str | None = None
    db_name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,63}$")] = "gateway"
    data_dir: str = ".gateway"
    mongo_driver: Literal["pymongo", "motor"] = "pymongo"
    # Fail fast (503) instead of hanging when the database is unreachable.
    mongo_timeout_ms: PositiveInt = 2000
    jwt_secret: str | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    token_ttl: PositiveInt = 3600
    max_body_bytes: PositiveInt = 1 * MIB
    max_file_bytes: PositiveInt = 100 * MIB
    max_upload_bytes: PositiveInt = 10 * MIB
    # Seconds a deleted file's bytes outlive it, so downloads already running finish.
    deleted_file_grace: Annotated[float, msgspec.Meta(ge=0, le=7 * 24 * 3600)] = 600.0
    # Concurrent argon2 hashes (argon2_memory_kib and a core each): one core is left
    # to the event loop, so a login storm does not stall other requests (make load).
    hash_concurrency: Annotated[int, msgspec.Meta(ge=1, le=64)] = max(1, (os.cpu_count() or 2) - 1)
    # argon2id cost; defaults: RFC 9106's second recommendation (argon2-cffi's own).
    # A hash records its parameters, so hashes made with others still verify (and
    # are redone with these at the next login). Bounds: the library's minimums
    # (memory also at least 8 KiB per lane); production refuses less than OWASP's.
    argon2_time_cost: Annotated[int, msgspec.Meta(ge=1, le=100)] = RFC_9106_LOW_MEMORY.time_cost
    argon2_memory_kib: Annotated[int, msgspec.Meta(ge=8, le=4 * MIB)] = (
        RFC_9106_LOW_MEMORY.memory_cost
    )
    argon2_parallelism: Annotated[int, msgspec.Meta(ge=1, le=64)] = RFC_9106_LOW_MEMORY.parallelism
    cors_origins: tuple[str, ...] = ()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # Unset: JSON lines in production, readable lines in development.
    log_format: Literal["json", "console"] | None = None
    graphql_max_depth: Annotated[int, msgspec.Meta(ge=2, le=100)] = 10
    graphql_max_aliases: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 30
    # Parsing costs some 10 us a token: 2,000 keep it near 20 ms.
    graphql_max_tokens: Annotated[int, msgspec.Meta(ge=500, le=1_000_000)] = 2000
    # Largest GraphQL document, in UTF-8 bytes (refused before it is read).
    graphql_max_document_bytes: Annotated[int, msgspec.Meta(ge=1024, le=16 * MIB)] = 32 * 1024
    # Most an operation may cost (schema/cost.py): fields, times the items of their lists.
    graphql_max_cost: Annotated[int, msgspec.Meta(ge=1, le=100_000_000)] = 20_000
    # Unset: on in development, off in production.
    graphql_introspection: bool | None = None
    graphiql: bool | None = None
    graphql_suggestions: bool | None = None
    # A file of the only operations that may run (hashes, or texts by hash); unset: any.
    graphql_allowlist: str | None = None
    # Plain subtrees of GraphQL answers read by schema/fast_execution.py; false: graphql-core's way.
    graphql_fast_execution: bool = True
    # Multipart parts per request (413 above): a file and a few fields is all it takes.
    multipart_max_parts: Annotated[int, msgspec.Meta(ge=2, le=1000)] = 16
    # Seconds a client may leave a request body stalled before a 408.
    body_timeout: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    # Seconds shared caches may keep a product read (the same for every caller).
    cache_max_age: Annotated[int, msgspec.Meta(ge=0, le=86400)] = 10
    # Shared rate-limit counters for many gateway processes; in memory when unset.
    redis_url: str | None = None
    rate_login_ip: Rate = "30/60"
    rate_login_email: Rate = "10/300"
    rate_signup_ip: Rate = "20/3600"
    rate_contact_ip: Rate = "10/600"
    # GraphQL points per client address: each operation counts its cost (at least 1).
    rate_graphql_ip: Rate = "100000/60"
    # Proxies whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips).
    trusted_proxies: str = "127.0.0.1"
    # Serving (README "Production endpoints", "HTTPS", "Workers").
    # Bearer token /metrics asks for; in production, unset means /metrics is not served
    # on the API's port (404) unless metrics_port serves it.
    metrics_token: str | None = None
    # A port of its own for /metrics (plain HTTP, no token, on GATEWAY_HOST: keep it internal).
    metrics_port: Port | None = None
    # Swagger UI at /schema; unset: on in development, off in production (the OpenAPI
    # document at /schema/openapi.json stays).
    swagger_ui: bool | None = None
    # PEM certificate (chain) and private key: both or neither; set, the gateway serves HTTPS.
    tls_cert: str | None = None
    tls_key: str | None = None
    # Strict-Transport-Security max-age on answers to requests that came over TLS (0: none).
    hsts_max_age: Annotated[int, msgspec.Meta(ge=0, le=2 * 365 * 24 * 3600)] = 365 * 24 * 3600
    # Seconds a client has to send a request's head (line and headers) before it is cut off.
    header_timeout: Annotated[float, msgspec.Meta(gt=0, le=600)] = 10.0
    # Bytes a request's URL and headers may hold together (414/431 past it; gateway.request_head).
    max_head_bytes: Annotated[int, msgspec.Meta(ge=4096, le=1024 * 1024)] = 64 * 1024
    # Connections one serving process holds (503 past it; gateway/http_protocol.py), lowered
    # to fit its open-files limit.
    max_connections: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 10_000
    # Serving processes on the one port.
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    # Seconds a list's total (count) may be kept between writes (gateway/totals.py);
    # 0: counted on every request. Kept only while other writers' changes are heard.
    totals_cache_seconds: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 5.0
    # Live data (README "Live data"): change streams opened at start, one per watched
    # collection, shared by the REST event stream and GraphQL subscriptions.
    live_data: bool = True
    # Seconds between polls of a change stream after an empty answer (the embedded
    # database answers at once; MongoDB waits up to a second on the server first).
    live_poll_interval: Annotated[float, msgspec.Meta(gt=0, le=10)] = 0.1
    # Changes kept per process for clients resuming with Last-Event-ID.
    live_history: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 1000
    # Changes a subscriber may leave unread before it is dropped as too slow.
    live_queue_size: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 256
    # Seconds between heartbeats on an idle event stream.
    live_heartbeat: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 15.0
    # Open subscriptions per client address (REST event streams and GraphQL together).
    live_max_per_client: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 20
    # GraphQL subscriptions (README "Subscriptions"): subscriptions one WebSocket may hold.
    graphql_max_subscriptions_per_connection: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    # Seconds a WebSocket has to send connection_init after opening (closed 4408 past it).
    graphql_connection_init_timeout: Annotated[float, msgspec.Meta(gt=0, le=600)] = 10.0
    # Open GraphQL WebSockets per client address (closed with 1008 above): a signed-in
    # connection holds memory even with no subscription. Event streams are bounded by
    # live_max_per_client (each holds one subscription).
    graphql_max_websockets_per_client: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 20
    # Seconds a client may leave an answer unread (its TCP window full) before the
    # connection is cut (gateway/write_timeout.py): a stalled event stream ends.
    write_timeout: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def graphql_introspection_enabled(self) -> bool:
        return (
            self.is_development
            if self.graphql_introspection is None
            else self.graphql_introspection
        )

    @property
    def graphiql_enabled(self) -> bool:
        return self.is_development if self.graphiql is None else self.graphiql

    @property
    def graphql_suggestions_enabled(self) -> bool:
        return self.is_development if self.graphql_suggestions is None else self.graphql_suggestions

    @property
    def swagger_ui_enabled(self) -> bool:
        return self.is_development if self.swagger_ui is None else self.swagger_ui

    @property
    def metrics_on_api_port(self) -> bool:
        """Whether the API's port answers /metrics (with the token, when one is set)."""
        if self.metrics_port is not None:
            return False
        return self.is_development or self.metrics_token is not None

    @property
    def log_format_chosen(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "console" if self.is_development else "json"

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).resolve()


_FIELDS = {field.name: field for field in msgspec.structs.fields(Settings)}
# Settings whose empty value means unset.
_OPTIONAL = {
    "mongodb_uri",
    "jwt_secret",
    "redis_url",
    "graphql_allowlist",
    "graphql_introspection",
    "graphiql",
    "graphql_suggestions",
    "log_format",
    "metrics_token",
    "metrics_port",
    "swagger_ui",
    "tls_cert",
    "tls_key",
}
# Variables with the prefix that are not settings of the service.
# Set by `serve --workers` for its workers; read by `create-admin`; read by the tests.
_NOT_SETTINGS = {
    "GATEWAY_WORKERS_METRICS_DIR",
    "GATEWAY_ADMIN_PASSWORD",
    "GATEWAY_TEST_MONGODB_URI",
}
# A value is echoed in an error unless its name says it may hold a secret.
_SECRET_WORDS = ("secret", "uri", "url", "token", "password", "key")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _normalise(name: str, value: str) -> object:
    value = value.strip()
    if name == "cors_origins":
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if name == "log_level":
        return value.upper()
    if name == "log_format":
        return value.lower() or None
    if name == "env":
        return {"dev": "development", "prod": "production"}.get(value.lower(), value.lower())
    if name in _OPTIONAL and not value:
        return None
    return value


def _host_problem(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOSTNAME.match(value):
            return "must be an IP address or a host name"
    return None


def _networks_problem(value: str) -> str | None:
    for item in (part.strip() for part in value.split(",")):
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return f"{item!r} is not an IP address or network (a comma-separated list, or *)"
    return None


def _origins_problem(value: tuple[str, ...]) -> str | None:
    for origin in value:
        if origin == "*":
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            return f"{origin!r} is not an origin like https://app.example.com (or *)"
    return None


def _scheme_problem(*schemes: str) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in schemes:
            return f"must start with {' or '.join(f'{scheme}://' for scheme in schemes)}"
        return None

    return check


# Rules a value's type cannot say, by setting.
_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "host": _host_problem,
    "trusted_proxies": _networks_problem,
    "cors_origins": _origins_problem,
    "mongodb_uri": _scheme_problem("mongodb", "mongodb+srv"),
    "redis_url": _scheme_problem("redis", "rediss", "unix"),
}


def _type_problem(name: str, value: object, exc: msgspec.ValidationError) -> str:
    """What is wrong with ``value``, in words an operator can act on (choices listed)."""
    kind = _FIELDS[name].type
    choices = [arg for arg in get_args(kind) if arg is not type(None)]
    if get_origin(kind) is Literal:
        return f"must be one of {', '.join(map(str, choices))}, not {value!r}"
    if kind in (bool, bool | None):
        empty = ", or empty for the default" if kind is not bool else ""
        return f"must be true or false (or 1 or 0){empty}, not {value!r}"
    message = str(exc).split(" - at ")[0]
    if any(word in name for word in _SECRET_WORDS):
        return message
    return f"{message}, not {value!r}"


def _read(environ: Mapping[str, str] | None, env_file: str | Path | None) -> dict[str, str]:
    raw: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        raw.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    raw.update(os.environ if environ is None else environ)
    return {key: value for key, value in raw.items() if key.startswith(PREFIX)}


def unknown_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> list[str]:
    """A warning for each ``GATEWAY_*`` variable that is no setting, with the closest name."""
    warnings = []
    for key in _read(environ, env_file):
        name = key[len(PREFIX) :].lower()
        if name in _FIELDS or key in _NOT_SETTINGS:
            continue
        close = difflib.get_close_matches(name, _FIELDS, n=1)
        hint = f" (did you mean {PREFIX}{close[0].upper()}?)" if close else ""
        warnings.append(f"{key} is not a setting and is ignored{hint}")
    return warnings


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Parse settings from ``environ`` (default ``os.environ``) over an optional ``.env`` file.

    Raises:
        SettingsError: a value is malformed; every problem, each naming its variable.
    """
    problems: list[str] = []
    data: dict[str, object] = {}
    for key, text in _read(environ, env_file).items():
        name = key[len(PREFIX) :].lower()
        if name not in _FIELDS:
            continue
        value = _normalise(name, text)
        try:
            converted = msgspec.convert(value, _FIELDS[name].type, strict=False)
        except msgspec.ValidationError as exc:
            problems.append(f"{key}: {_type_problem(name, value, exc)}")
            continue
        check = _CHECKS.get(name)
        if check is not None and (problem := check(converted)) is not None:
            problems.append(f"{key}: {problem}")
            continue
        data[name] = value
    settings = msgspec.convert(data, Settings, strict=False) if not problems else None
    if settings is not None:
        problems.extend(_argon2_problems(settings))
        problems.extend(_tls_problems(settings))
        if settings.env == "production":
            problems.extend(_production_problems(settings))
    if settings is None or problems:
        raise SettingsError(problems)
    return settings


def _production_problems(settings: Settings) -> list[str]:
    if not settings.jwt_secret:
        return [
            "GATEWAY_JWT_SECRET must be set in production "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        ]
    problems = []
    if len(settings.jwt_secret) < _MIN_SECRET_LENGTH:
        problems.append(f"GATEWAY_JWT_SECRET must be at least {_MIN_SECRET_LENGTH} characters")
    if "*" in settings.cors_origins:
        problems.append("GATEWAY_CORS_ORIGINS: '*' is refused in production")
    return problems


# argon2 needs 8 KiB of memory per lane (2 * ARGON2_SYNC_POINTS blocks of 1 KiB).
ARGON2_KIB_PER_LANE = 8
# OWASP's equivalent argon2id configurations (memory KiB, passes): production
# parameters must reach at least one of them (Password Storage Cheat Sheet).
OWASP_ARGON2ID = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


def _argon2_problems(settings: Settings) -> list[str]:
    """argon2 parameters the library cannot use, or too weak for production."""
    if settings.argon2_memory_kib < ARGON2_KIB_PER_LANE * settings.argon2_parallelism:
        return [
            f"GATEWAY_ARGON2_MEMORY_KIB must be at least {ARGON2_KIB_PER_LANE} "
            "times GATEWAY_ARGON2_PARALLELISM"
        ]
    if settings.env == "production" and not any(
        settings.argon2_memory_kib >= memory and settings.argon2_time_cost >= passes
        for memory, passes in OWASP_ARGON2ID
    ):
        floors = ", ".join(f"{memory // 1024} MiB x {passes}" for memory, passes in OWASP_ARGON2ID)
        return [
            "GATEWAY_ARGON2_MEMORY_KIB and GATEWAY_ARGON2_TIME_COST are below OWASP's "
            f"argon2id minimums in production (at least one of: {floors})"
        ]
    return []


def _tls_problems(settings: Settings) -> list[str]:
    if (settings.tls_cert is None) != (settings.tls_key is None):
        return ["GATEWAY_TLS_CERT and GATEWAY_TLS_KEY are set together or not at all"]
    problems = []
    files = {"GATEWAY_TLS_CERT": settings.tls_cert, "GATEWAY_TLS_KEY": settings.tls_key}
    for name, path in files.items():
        if path is None:
            continue
        try:
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError as exc:
            problems.append(f"{name}: cannot read {path} ({exc.strerror})")
    return problems


def with_jwt_secret(settings: Settings) -> Settings:
    """Return settings that carry a JWT secret.

    In development a missing secret is generated once and kept in the data
    directory, so tokens survive restarts; production never gets here without one.
    """
    if settings.jwt_secret:
        return settings
    path = settings.data_path / "jwt-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        log.warning("GATEWAY_JWT_SECRET is not set: generated a development secret in %s", path)
    return msgspec.structs.replace(settings, jwt_secret=path.read_text().strip())
