"""Login and token checks: who the caller is, decided against the database."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.credentials import INVALID_TOKEN, Passwords, Tokens, bearer_token
from gateway.errors import Unauthenticated
from gateway.models import Credentials, User
from gateway.ratelimit import Limits
from gateway.services.policy import Actor
from gateway.services.users import UserService, to_user

__all__ = ["AuthService", "Session"]

INVALID_CREDENTIALS = "Invalid credentials"


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user: User


class AuthService:
    def __init__(
        self, users: UserService, passwords: Passwords, tokens: Tokens, limits: Limits
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._tokens = tokens
        self._limits = limits

    async def login(self, credentials: Credentials, *, client: str | None = None) -> Session:
        """Exchange email and password for a token; ``client`` is the caller's address.

        Raises:
            RateLimited: too many attempts from ``client`` or for this email
                (counted before any hash is computed).
            Unauthenticated: unknown email or wrong password, with the same message
                and (through a dummy hash) about the same time.
        """
        await self._limits.login(client, credentials.email)
        doc = await self._users.find_credentials(credentials.email)
        stored = doc["passwordHash"] if doc else None
        if not await self._passwords.verify(stored, credentials.password) or doc is None:
            raise Unauthenticated(INVALID_CREDENTIALS)
        if self._passwords.needs_rehash(doc["passwordHash"]):
            await self._users.set_password_hash(
                doc["_id"], await self._passwords.hash(credentials.password)
            )
        token = self._tokens.issue(
            subject=str(doc["_id"]),
            role=doc["role"],
            password_version=int(doc.get("passwordVersion", 0)),
        )
        actor = Actor(id=str(doc["_id"]), role=doc["role"], email=doc["email"], name=doc["name"])
        return Session(token=token, user=to_user(doc, actor))

    async def actor(self, authorization: str | None) -> Actor | None:
        """The caller behind an ``Authorization`` header; None when there is none.

        Raises:
            Unauthenticated: the token is refused (bad, expired, user deleted,
                password changed since it was issued).
        """
        token = bearer_token(authorization)
        if token is None:
            return None
        claims = self._tokens.verify(token)
        doc = await self._users.find_record(claims["sub"])
        if doc is None or int(doc.get("passwordVersion", 0)) != claims["pwv"]:
            raise Unauthenticated(INVALID_TOKEN)
        return Actor(
            id=str(doc["_id"]), role=doc["role"], email=doc["email"], name=doc["name"],
            claims=claims,
        )  # fmt: skip
