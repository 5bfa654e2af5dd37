"""Users: sign-up, reads with per-caller email visibility, updates, deletion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from msgspec import UNSET
from pymongo.errors import DuplicateKeyError

from gateway.conditional import Validators
from gateway.credentials import Passwords
from gateway.db import Database, find_one, id_filter, parse_oid, per_key, stamped, utcnow
from gateway.documents import FIRST_VERSION, users
from gateway.documents.users import DELETING, new_user
from gateway.errors import Conflict, Forbidden, NotFound
from gateway.models import PostOut, ProfileOut, User, UserCreate, UserDetail, UserUpdate
from gateway.pagination import (
    CursorArgs,
    CursorCodec,
    CursorPage,
    OffsetPage,
    PageParams,
    SortKey,
    cursor_page,
    offset_page,
)
from gateway.ratelimit import Limits
from gateway.record_validators import of_detail
from gateway.services.policy import Actor, require_self_or_admin, require_signed_in
from gateway.services.posts import PostService, by_author
from gateway.services.profiles import ProfileService, by_user
from gateway.services.versions import Expected, refusal, version_filter

__all__ = ["USER_NOT_FOUND", "UserService", "to_user"]

USER_NOT_FOUND = "User not found"
EMAIL_TAKEN = "Email already registered"


def to_user(doc: dict[str, Any], viewer: Actor | None) -> User:
    """The user as ``viewer`` may see it: the email only for themself or an admin."""
    user_id = str(doc["_id"])
    return User(
        id=user_id,
        name=doc["name"],
        role=doc["role"],
        created_at=doc["createdAt"],
        updated_at=doc["updatedAt"],
        version=doc.get("version", FIRST_VERSION),
        email=doc["email"] if viewer is not None and viewer.may_see(user_id) else UNSET,
    )


class UserService:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        posts: PostService,
        profiles: ProfileService,
        limits: Limits,
        cursors: CursorCodec,
    ) -> None:
        self._users = db[users.COLLECTION]
        self._cursors = cursors
        self._passwords = passwords
        self._posts = posts
        self._profiles = profiles
        self._limits = limits

    async def page(self, actor: Actor | None, params: PageParams) -> OffsetPage[User]:
        """Raises: Unauthenticated: anonymous caller."""
        viewer = require_signed_in(actor)
        return await offset_page(
            self._users, {}, [("_id", 1)], params, lambda d: to_user(d, viewer)
        )

    async def connection(
        self, actor: Actor | None, args: CursorArgs, *, with_total: bool = True
    ) -> CursorPage[User]:
        """Raises: Unauthenticated: anonymous caller; ValidationFailed: bad paging."""
        viewer = require_signed_in(actor)
        return await cursor_page(
            self._users,
            {},
            SortKey("createdMs", kind=int),
            args,
            lambda d: to_user(d, viewer),
            self._cursors,
            with_total=with_total,
        )

    async def get(self, actor: Actor | None, user_id: str) -> User:
        """Raises: Unauthenticated: anonymous; NotFound: no such user."""
        viewer = require_signed_in(actor)
        return to_user(await self._find(user_id), viewer)

    async def detail(self, actor: Actor | None, user_id: str) -> tuple[UserDetail, Validators]:
        """The user with their newest posts and profile (REST ``GET /api/users/ID``), and
        its validators, which change with the user, their posts and their profile."""
        user = await self.get(actor, user_id)
        post_docs, profile_docs = await self._relation_docs([user.id], posts=True, profile=True)
        posts, profile = by_author([user.id], post_docs)[user.id], by_user(profile_docs)
        stamp = next(
            ((d.get("version", FIRST_VERSION), d["updatedAt"]) for d in profile_docs), None
        )
        validators = of_detail(
            user, [p.id for p in posts], posts[0].created_at if posts else None, stamp
        )
        detail = UserDetail(
            **msgspec.structs.asdict(user), posts=posts, profile=profile.get(user.id)
        )
        return detail, validators

    async def relations(
        self, user_ids: list[str], *, posts: bool, profile: bool
    ) -> tuple[dict[str, list[PostOut]], dict[str, ProfileOut]]:
        """The newest posts and the profile of each of ``user_ids``, in one query;
        a relation not asked for comes back empty."""
        post_docs, profile_docs = await self._relation_docs(user_ids, posts=posts, profile=profile)
        return (
            by_author(user_ids, post_docs) if posts else {},
            by_user(profile_docs) if profile else {},
        )

    async def _relation_docs(
        self, user_ids: list[str], *, posts: bool, profile: bool
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The stored newest posts and profiles of ``user_ids``, in one query."""
        lookups = [
            *([self._posts.newest_by_author] if posts else []),
            *([self._profiles.of_user] if profile else []),
        ]
        found = await per_key(user_ids, *lookups)
        return (found.pop(0) if posts else [], found.pop(0) if profile else [])

    async def get_many(self, actor: Actor | None, user_ids: Sequence[str]) -> dict[str, User]:
        """The users among ``user_ids`` that exist, in one query (for DataLoaders)."""
        viewer = require_signed_in(actor)
        oids = [oid for oid in map(parse_oid, user_ids) if oid is not None]
        docs = await self._users.find({"_id": {"$in": oids}}).to_list(None)
        return {str(d["_id"]): to_user(d, viewer) for d in docs}

    async def create(
        self, actor: Actor | None, data: UserCreate, *, client: str | None = None
    ) -> User:
        """Sign up (anyone) or create a user (admin, who alone may set ``role``).

        Raises:
            RateLimited: too many sign-ups from ``client`` (admins are not limited).
            Forbidden: ``role`` sent by a non-admin; Conflict: email taken.
        """
        if actor is None or not actor.is_admin:
            await self._limits.signup(client)
        if data.role is not UNSET and (actor is None or not actor.is_admin):
            raise Forbidden("Only an admin can set role")
        if await self._users.find_one({"email": data.email}, {"_id": 1}):
            raise Conflict(EMAIL_TAKEN)
        doc = new_user(
            name=data.name,
            email=data.email,
            role="user" if data.role is UNSET else data.role,
            password_hash=await self._passwords.hash(data.password),
            created_at=utcnow(),
        )
        try:
            result = await self._users.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(EMAIL_TAKEN) from None
        doc["_id"] = result.inserted_id
        # The answer to sign-up shows the email just given, whoever signs the new user up.
        return to_user(doc, _self_view(doc))

    async def update(
        self, actor: Actor | None, user_id: str, data: UserUpdate, expected: Expected = None
    ) -> User:
        """Partial update of name, email, password, and role (admin only), if the user is
        at one of the ``expected`` versions (any, if None).

        Raises:
            Unauthenticated, Forbidden (another user, or ``role`` from a non-admin),
            NotFound, Conflict (email taken), PreconditionFailed.
        """
        actor = require_signed_in(actor)
        query = await self._find(user_id, projection={"_id": 1})
        require_self_or_admin(actor, user_id)
        if data.role is not UNSET and not actor.is_admin:
            raise Forbidden("Only an admin can set role")
        changes: dict[str, Any] = {}
        for field in ("name", "email", "role"):
            value = getattr(data, field)
            if value is not UNSET:
                changes[field] = value
        if "email" in changes and await self._users.find_one(
            {"email": changes["email"], "_id": {"$ne": query["_id"]}}, {"_id": 1}
        ):
            raise Conflict(EMAIL_TAKEN)
        update: dict[str, Any] = {}
        if data.password is not UNSET:
            changes["passwordHash"] = await self._passwords.hash(data.password)
            # Tokens carry the version they were issued under; bumping it revokes them.
            update["$inc"] = {"passwordVersion": 1}
        if changes:
            update["$set"] = changes
        by_id = {"_id": query["_id"]}
        conditional = {**by_id, **version_filter(expected)}
        if update:
            # update_one, not find_one_and_update: the embedded server's findAndModify
            # answers null instead of a duplicate-key error, which would turn the loser
            # of a race for an email into a 404 (docs: DESIGN.md, the database quirks).
            try:
                result = await self._users.update_one(conditional, stamped(update))
            except DuplicateKeyError:
                raise Conflict(EMAIL_TAKEN) from None
            if result.matched_count == 0:  # deleted concurrently, or moved on from `expected`
                raise await refusal(self._users, by_id, expected, USER_NOT_FOUND)
        elif expected is not None and await self._users.find_one(conditional, {"_id": 1}) is None:
            raise await refusal(self._users, by_id, expected, USER_NOT_FOUND)
        return to_user(await self._find(user_id), actor)

    async def delete(self, actor: Actor | None, user_id: str, expected: Expected = None) -> None:
        """Delete a user with their posts and profile, if the user is at one of the
        ``expected`` versions (any, if None).

        Raises:
            Unauthenticated, NotFound, Forbidden (another user, unless admin),
            PreconditionFailed (then nothing is deleted).
        """
        actor = require_signed_in(actor)
        query = await self._find(user_id, projection={"_id": 1})
        require_self_or_admin(actor, user_id)
        # Marked in one write that raises the version, before anything goes: of concurrent
        # deletes (or updates) expecting one version exactly one goes on, and a post or
        # profile the user writes meanwhile is swept below or takes itself back
        # (``services.authorship``).
        by_id = {"_id": query["_id"]}
        held = version_filter(expected) if expected is not None else {}
        claim = await self._users.update_one({**by_id, **held}, stamped({"$set": {DELETING: True}}))
        if claim.matched_count == 0:
            raise await refusal(self._users, by_id, expected, USER_NOT_FOUND)
        # Dependents next: a retry after a crash still finds the user to finish the job.
        await self._posts.delete_by_author(user_id)
        await self._profiles.delete_for_user(user_id)
        result = await self._users.delete_one({"_id": query["_id"]})
        if result.deleted_count == 0:  # a concurrent delete got there first: one 204, then 404s
            raise NotFound(USER_NOT_FOUND)

    async def _find(self, user_id: str, projection: dict[str, int] | None = None) -> dict[str, Any]:
        doc = await self._users.find_one(id_filter(user_id, "User"), projection)
        if doc is None:
            raise NotFound(USER_NOT_FOUND)
        return doc

    async def find_credentials(self, email: str) -> dict[str, Any] | None:
        """The stored record behind an email, hash included (for login only)."""
        return await self._users.find_one({"email": email})

    async def find_record(self, user_id: str) -> dict[str, Any] | None:
        """The stored record behind an id, or None (for token checks only)."""
        oid = parse_oid(user_id)
        return await find_one(self._users, {"_id": oid}) if oid else None

    async def set_password_hash(self, user_id: Any, password_hash: str) -> None:
        """Store a re-computed hash of the same password (parameters upgraded)."""
        await self._users.update_one({"_id": user_id}, {"$set": {"passwordHash": password_hash}})


def _self_view(doc: dict[str, Any]) -> Actor:
    """The new user seen by themself: sign-up answers with the user's own email."""
    return Actor(id=str(doc["_id"]), role=doc["role"], email=doc["email"], name=doc["name"])
