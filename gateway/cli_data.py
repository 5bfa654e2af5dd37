"""The CLI's commands on data, ``create-admin`` and ``seed``, and the database they act on.

Both say which database they act on. With the embedded database they attach to
the server a gateway serving the same data directory runs, or start one for the
duration of the command; they refuse to make a new embedded database (a new
data directory, with its own JWT secret the running gateway never sees) unless
asked with ``--init``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TextIO
from urllib.parse import urlsplit

from gateway.app import open_services
from gateway.config import Settings
from gateway.errors import ValidationFailed
from gateway.models import UserCreate, UserUpdate
from gateway.services import Actor
from gateway.services.seed import DEMO_PASSWORD, demo_email
from gateway.validation import convert_input

__all__ = ["PASSWORD_VARIABLE", "NoDatabase", "create_admin", "describe_database", "seed"]

# The CLI is the operator: it acts with an admin's rights.
OPERATOR = Actor(id="cli", role="admin", email="", name="gateway CLI")
PASSWORD_VARIABLE = "GATEWAY_ADMIN_PASSWORD"  # noqa: S105 - a name, not a password


class NoDatabase(Exception):
    """The embedded database the command would act on does not exist (and no ``--init``)."""


def describe_database(settings: Settings, *, init: bool) -> str:
    """Which database a command acts on, in words (credentials left out).

    Raises:
        NoDatabase: no embedded database in the data directory, and not ``init``.
    """
    if settings.mongodb_uri:
        parts = urlsplit(settings.mongodb_uri)
        host = parts.netloc.rpartition("@")[2]
        return f"MongoDB at {parts.scheme}://{host}, database {settings.db_name!r}"
    data = settings.data_path
    if not (data / "mongo").is_dir():
        if not init:
            raise NoDatabase(
                f"no embedded database in {data}: run the command where the gateway runs "
                "(or set GATEWAY_DATA_DIR or GATEWAY_MONGODB_URI), or pass --init to make one"
            )
        return f"a new embedded database in {data}"
    served = (data / "embedded.json").is_file()
    how = "served by the running gateway" if served else "started for this command"
    return f"the embedded database in {data} ({how})"


def read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    """The new admin's password: standard input (``--password-stdin``), the environment
    variable, or a prompt typed twice; never required on the command line.

    Raises:
        ValidationFailed: no way to ask, or the two typed differ.
    """
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    if args.password is not None:
        print(
            "gateway: warning: a password on the command line is visible to other users and "
            f"kept in shell history; prefer the prompt, --password-stdin or {PASSWORD_VARIABLE}",
            file=sys.stderr,
        )
        return str(args.password)
    if PASSWORD_VARIABLE in os.environ:
        return os.environ[PASSWORD_VARIABLE]
    if not stdin.isatty():
        raise ValidationFailed(
            "No password",
            [f"password: type it at the prompt, or use --password-stdin or {PASSWORD_VARIABLE}"],
        )
    first = getpass.getpass("Password for the admin: ")
    if getpass.getpass("Again: ") != first:
        raise ValidationFailed("Passwords differ", ["password: the two entries differ"])
    return first


async def create_admin(settings: Settings, args: argparse.Namespace) -> int:
    password = read_password(args, sys.stdin)
    data = convert_input(
        {"name": args.name, "email": args.email, "password": password, "role": "admin"},
        UserCreate,
    )
    async with open_services(settings) as services:
        existing = await services.users.find_credentials(data.email)
        if existing is None:
            user = await services.users.create(OPERATOR, data)
            print(f"created admin {user.email} ({user.id})")
        else:
            update = UserUpdate(name=data.name, password=data.password, role="admin")
            user = await services.users.update(OPERATOR, str(existing["_id"]), update)
            print(f"updated {user.email} ({user.id}): role admin, password reset")
    return 0


class _Bars:
    """Progress bars on standard error, one line a collection, each finished once."""

    def __init__(self) -> None:
        self._finished: set[str] = set()

    def __call__(self, label: str, done: int, total: int) -> None:
        if label in self._finished:
            return
        width = 30
        filled = width * done // total if total else width
        end = "\n" if done >= total else ""
        if end:
            self._finished.add(label)
        bar = f"[{'#' * filled}{'.' * (width - filled)}]"
        sys.stderr.write(f"\r{label:<17} {bar} {done}/{total}{end}")
        sys.stderr.flush()


async def seed(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings) as services:
        counts = await services.seed.seed(
            users=args.users,
            posts_per_user=args.posts,
            products=args.products,
            categories=args.categories,
            progress=_Bars(),
        )
    for count in counts:
        print(f"{count.collection:<17} added {count.added:>6,}   already there {count.present:>6,}")
    if args.users:
        last = f" ... {demo_email(args.users)}" if args.users > 1 else ""
        print(f"demo logins: {demo_email(1)}{last}, password {DEMO_PASSWORD!r}")
    return 0
