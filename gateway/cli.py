"""The ``gateway`` command: ``serve``, ``create-admin``, ``seed`` (the last two in
``gateway.cli_data``). Settings are read and checked, and logging set up, before
anything else: a bad setting stops every command with exit status 2."""

from __future__ import annotations

import argparse
import asyncio
import logging
import ssl
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

import msgspec

from gateway.app import create_app
from gateway.cli_data import PASSWORD_VARIABLE, NoDatabase, create_admin, describe_database, seed
from gateway.config import (
    Settings,
    SettingsError,
    load_settings,
    unknown_settings,
    with_jwt_secret,
)
from gateway.errors import GatewayError, ValidationFailed
from gateway.front_page import serving_line
from gateway.http_protocol import http_protocol
from gateway.logs import configure_logging
from gateway.runtime import tune_garbage_collector
from gateway.server_stop import GoingAwayWebSocketProtocol
from gateway.workers import serve_workers

__all__ = ["WEBSOCKET_MESSAGE_ALLOWANCE", "main", "uvicorn_options"]

log = logging.getLogger("gateway")
__version__ = version("gateway")


# What a WebSocket message may hold besides a GraphQL document: graphql-transport-ws's
# envelope, an operation name, variables, a token in ``connection_init``.
WEBSOCKET_MESSAGE_ALLOWANCE = 16 * 1024


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the app (each worker alike), but for the address."""
    return {
        "log_config": None,  # keep the JSON logging configured by configure_logging
        "log_level": settings.log_level.lower(),
        "access_log": False,  # RequestContext writes the access log
        # Client addresses (rate limits, logs) and the scheme (HSTS) from trusted proxies only.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.trusted_proxies,
        # Requests in flight get this long; live streams end at once (gateway.server_stop).
        "timeout_graceful_shutdown": 10,
        "http": http_protocol(settings),
        "ws": GoingAwayWebSocketProtocol,
        # A larger message is refused (close 1009) from its frame's header, unread.
        "ws_max_size": settings.graphql_max_document_bytes + WEBSOCKET_MESSAGE_ALLOWANCE,
        "ssl_certfile": settings.tls_cert,
        "ssl_keyfile": settings.tls_key,
    }


def _check_tls(settings: Settings) -> None:
    """Raises: SettingsError: the certificate and key do not make a TLS server's pair."""
    if settings.tls_cert is None or settings.tls_key is None:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            settings.tls_cert, settings.tls_key
        )
    except ssl.SSLError as exc:
        message = f"GATEWAY_TLS_CERT/GATEWAY_TLS_KEY: not a usable pair ({exc})"
        raise SettingsError(message) from None


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    try:
        # What settings alone cannot tell: a certificate and key that make a pair, the
        # allow-list, the versions fast execution was verified with (building the app).
        _check_tls(settings)
        app = create_app(settings)
    except SettingsError as exc:
        return _configuration_error(exc)
    options = {
        "host": args.host or settings.host,
        "port": args.port or settings.port,
        **uvicorn_options(settings),
    }
    log.info(serving_line(settings, options["host"], options["port"]))
    workers = args.workers or settings.workers
    if workers > 1:
        serve_workers(settings, workers, options)
        return 0
    tune_garbage_collector()
    uvicorn.run(app, **options)
    return 0


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, not {value:,}")
        return value

    return parse


_EXAMPLES = """\
examples:
  gateway serve                          # http://127.0.0.1:8000 (GATEWAY_HOST, GATEWAY_PORT)
  gateway serve --workers 2              # two processes on one port
  gateway create-admin --email admin@example.com --name Admin   # asks for the password
  gateway seed --users 20 --products 60  # demo data; again adds only what is missing

Settings come from GATEWAY_* environment variables and ./.env (see the README).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway",
        description="One service serving the legacy REST API and a GraphQL schema.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve REST and GraphQL over HTTP")
    serve.add_argument("--host", help="overrides GATEWAY_HOST")
    serve.add_argument("--port", type=_count(1, 65535), help="overrides GATEWAY_PORT")
    serve.add_argument(
        "--workers", type=_count(1, 64), metavar="N", help="overrides GATEWAY_WORKERS"
    )
    admin = commands.add_parser(
        "create-admin",
        help="create an admin (or promote and reset one)",
        description="Create an admin, or make an existing user admin with a new password. "
        f"The password is asked for, or read from standard input (--password-stdin) or "
        f"{PASSWORD_VARIABLE}.",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    admin.add_argument("--password", help=argparse.SUPPRESS)  # visible to all: discouraged
    seed = commands.add_parser(
        "seed",
        help="write demo users, posts, profiles and products",
        description="Write demo data; run again, it adds only what is missing.",
    )
    seed.add_argument("--users", type=_count(0, 100_000), default=20)
    seed.add_argument("--posts", type=_count(0, 100), default=3, help="posts per user")
    seed.add_argument("--products", type=_count(0, 1_000_000), default=60)
    seed.add_argument("--categories", type=_count(1, 20), default=6)
    for command in (admin, seed):
        command.add_argument(
            "--init", action="store_true", help="make a new embedded database if there is none"
        )
    return parser


def _configuration_error(exc: SettingsError) -> int:
    lines = "".join(f"\n  {problem}" for problem in exc.problems)
    print(f"gateway: configuration error:{lines}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        return _configuration_error(exc)
    configure_logging(settings)  # before anything is logged: one format for every line
    for warning in unknown_settings():
        log.warning(warning)
    if args.command == "serve":
        return _serve(with_jwt_secret(settings), args)
    try:
        print(f"database: {describe_database(settings, init=args.init)}", file=sys.stderr)
    except NoDatabase as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    command = create_admin if args.command == "create-admin" else seed
    try:
        return asyncio.run(command(with_jwt_secret(settings), args))
    except ValidationFailed as exc:
        print(f"gateway: {exc.message}: {'; '.join(exc.details)}", file=sys.stderr)
        return 2
    except (GatewayError, msgspec.ValidationError) as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
