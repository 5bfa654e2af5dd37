"""Passwords and tokens: argon2id hashes off the event loop, HS256 JWTs with explicit checks."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.config import Settings
from gateway.errors import Unauthenticated

__all__ = [
    "INVALID_TOKEN",
    "NO_TOKEN",
    "REQUIRED_CLAIMS",
    "Passwords",
    "Tokens",
    "bearer_token",
]

NO_TOKEN = "No token provided"  # noqa: S105 - a message, not a secret
INVALID_TOKEN = "Invalid token"  # noqa: S105 - a message, not a secret
# The type each required claim must have. PyJWT checks that ``exp`` and ``iat``
# convert to numbers (so it passes "1700000000"), not their JSON types; a token
# signed with our key but holding another type (a string ``exp``, a list
# ``role``, a boolean ``pwv``) is refused here, before it is cached or compared.
CLAIM_TYPES: dict[str, type] = {"sub": str, "role": str, "iat": int, "exp": int, "pwv": int}
REQUIRED_CLAIMS = tuple(CLAIM_TYPES)
# Tokens whose signature and claims were checked, kept until they expire: a
# signed token can only lose its validity by expiring (revocation is the
# database's check, made on every request). Bounded, oldest out first.
VERIFIED_TOKENS = 1024


class Passwords:
    """argon2id hashing on a small dedicated pool, with the settings' parameters.

    The pool's size caps how many hashes run at once: each takes
    ``argon2_memory_kib`` and a core, so a login storm queues here instead of
    starving the event loop or the memory of the process.
    """

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=settings.hash_concurrency, thread_name_prefix="argon2"
        )
        # Unknown emails are checked against this so timing does not tell them apart.
        self._dummy = self._hasher.hash("dummy password for timing")

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored`` (``None``: compare with a dummy, False)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, self._verify, stored or self._dummy, password, stored is not None
        )

    def _verify(self, stored: str, password: str, real: bool) -> bool:
        try:
            return self._hasher.verify(stored, password) and real
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Tokens:
    """Issue and verify the gateway's JWTs."""

    def __init__(self, settings: Settings) -> None:
        assert settings.jwt_secret, "with_jwt_secret() must run before Tokens()"
        self._secret = settings.jwt_secret
        self._algorithm = settings.jwt_algorithm
        self._ttl = settings.token_ttl
        self._verified: dict[str, dict[str, Any]] = {}

    def issue(self, *, subject: str, role: str, password_version: int) -> str:
        now = int(time.time())
        claims = {
            "sub": subject,
            "role": role,
            "iat": now,
            "exp": now + self._ttl,
            "pwv": password_version,
        }
        return jwt.encode(claims, self._secret, algorithm=self._algorithm)

    def verify(self, token: str) -> dict[str, Any]:
        """Return the claims of a valid token.

        Raises:
            Unauthenticated: expired, badly signed, another algorithm (``none``
                included), or a required claim missing or mistyped.
        """
        known = self._verified.get(token)
        if known is not None and time.time() < known["exp"]:
            return dict(known)
        claims = self._decode(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = claims
        return dict(claims)

    def _decode(self, token: str) -> dict[str, Any]:
        """The checks of ``verify``, made by PyJWT (about 30 us per token)."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.InvalidTokenError:
            raise Unauthenticated(INVALID_TOKEN) from None
        if not all(_has_type(claims[name], kind) for name, kind in CLAIM_TYPES.items()):
            raise Unauthenticated(INVALID_TOKEN)
        return claims


def _has_type(value: object, kind: type) -> bool:
    """``isinstance``, except that a bool is not an int (JSON ``true`` is no version)."""
    return isinstance(value, kind) and not isinstance(value, bool)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any.

    Raises:
        Unauthenticated: the header is present but not a well-formed Bearer credential.
    """
    if not authorization or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(INVALID_TOKEN)
    return token.strip()
