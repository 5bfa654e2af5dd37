"""The ``gateway`` command: ``serve``, ``create-admin``, ``seed``.

``create-admin`` and ``seed`` act on the database the configuration names;
with the embedded database they attach to the server a running gateway on the
same data directory serves, or start one for the duration of the command.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import ssl
import sys
from collections.abc import Sequence
from typing import Any

import msgspec

from gateway.app import create_app, open_services
from gateway.config import Settings, SettingsError, load_settings, with_jwt_secret
from gateway.errors import GatewayError, ValidationFailed
from gateway.header_timeout import header_timeout_protocol
from gateway.models import UserCreate, UserUpdate
from gateway.observability import configure_logging
from gateway.runtime import tune_garbage_collector
from gateway.services import Actor
from gateway.validation import convert_input
from gateway.workers import serve_workers

__all__ = ["main"]

# The CLI is the operator: it acts with an admin's rights.
OPERATOR = Actor(id="cli", role="admin", email="", name="gateway CLI")


def _uvicorn_options(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "host": args.host or settings.host,
        "port": args.port or settings.port,
        "log_config": None,  # keep the JSON logging configured by configure_logging
        "log_level": settings.log_level.lower(),
        "access_log": False,  # RequestContext writes the access log
        # Client addresses (rate limits, logs) and the scheme (HSTS) from trusted proxies only.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.trusted_proxies,
        "timeout_graceful_shutdown": 10,
        "http": header_timeout_protocol(settings.header_timeout),
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

    configure_logging(settings.log_level)
    try:
        # What settings alone cannot tell: a certificate and key that make a pair, the
        # allow-list, the versions fast execution was verified with (building the app).
        _check_tls(settings)
        app = create_app(settings)
    except SettingsError as exc:
        return _configuration_error(exc)
    workers = args.workers or settings.workers
    if workers > 1:
        serve_workers(settings, workers, _uvicorn_options(settings, args))
        return 0
    tune_garbage_collector()
    uvicorn.run(app, **_uvicorn_options(settings, args))
    return 0


async def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as services:
        data = convert_input(
            {"name": args.name, "email": args.email, "password": args.password, "role": "admin"},
            UserCreate,
        )
        existing = await services.users.find_credentials(data.email)
        if existing is None:
            user = await services.users.create(OPERATOR, data)
            print(f"created admin {user.email} ({user.id})")
        else:
            update = UserUpdate(name=data.name, password=data.password, role="admin")
            user = await services.users.update(OPERATOR, str(existing["_id"]), update)
            print(f"updated {user.email} ({user.id}): role admin, password reset")
    return 0


def _bar(label: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r{label:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    sys.stderr.flush()


async def _seed(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as services:
        await services.seed.seed(
            users=args.users,
            posts_per_user=args.posts,
            products=args.products,
            categories=args.categories,
            progress=_bar,
        )
    print("seeded (demo users log in with password 'demo-password')")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve REST and GraphQL over HTTP")
    serve.add_argument("--host", help="overrides GATEWAY_HOST")
    serve.add_argument("--port", type=int, help="overrides GATEWAY_PORT")
    serve.add_argument(
        "--workers", type=int, choices=range(1, 65), metavar="N", help="overrides GATEWAY_WORKERS"
    )
    admin = commands.add_parser("create-admin", help="create an admin (or promote and reset)")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--name", required=True)
    seed = commands.add_parser("seed", help="write demo users, posts, profiles and products")
    seed.add_argument("--users", type=int, default=20)
    seed.add_argument("--posts", type=int, default=3, help="posts per user")
    seed.add_argument("--products", type=int, default=60)
    seed.add_argument("--categories", type=int, default=6, choices=range(1, 21))
    return parser


def _configuration_error(exc: SettingsError) -> int:
    print(f"gateway: configuration error: {exc}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = with_jwt_secret(load_settings())
    except SettingsError as exc:
        return _configuration_error(exc)
    if args.command == "serve":
        return _serve(settings, args)
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    command = _create_admin if args.command == "create-admin" else _seed
    try:
        return asyncio.run(command(settings, args))
    except ValidationFailed as exc:
        print(f"gateway: {exc.message}: {'; '.join(exc.details)}", file=sys.stderr)
        return 2
    except (GatewayError, msgspec.ValidationError) as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
