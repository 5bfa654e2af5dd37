"""The services: the only code that reads or writes data, and where authorization is decided."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.change_feed import ChangeFeed
from gateway.config import Settings
from gateway.credentials import Passwords, Tokens
from gateway.db import Database
from gateway.documents import posts as post_documents
from gateway.documents import products as product_documents
from gateway.documents import users as user_documents
from gateway.gridfs_store import FileStore
from gateway.observability import Metrics
from gateway.pagination import CursorCodec
from gateway.ratelimit import Limits, RateLimiter, Rules
from gateway.services.auth import AuthService, Session
from gateway.services.contact import ContactService
from gateway.services.files import FileService
from gateway.services.health import HealthService
from gateway.services.policy import Actor
from gateway.services.posts import PostService, to_post
from gateway.services.products import ProductService, to_product
from gateway.services.profiles import ProfileService
from gateway.services.seed import SeedService
from gateway.services.users import UserService, to_user
from gateway.totals import TotalsCache

__all__ = [
    "Actor",
    "AuthService",
    "ContactService",
    "FileService",
    "HealthService",
    "PostService",
    "ProductService",
    "ProfileService",
    "SeedService",
    "Services",
    "Session",
    "UserService",
]


@dataclass(frozen=True, slots=True)
class Services:
    """Every service, built once per application over one database."""

    users: UserService
    posts: PostService
    profiles: ProfileService
    products: ProductService
    files: FileService
    contact: ContactService
    auth: AuthService
    health: HealthService
    seed: SeedService
    limits: Limits
    # Live data: the changes of products, posts and users (started by the app).
    feed: ChangeFeed

    @classmethod
    def build(
        cls,
        db: Database,
        settings: Settings,
        passwords: Passwords,
        limiter: RateLimiter,
        metrics: Metrics | None = None,
    ) -> Services:
        """Raises: ValueError: ``settings`` carry no JWT secret (see ``with_jwt_secret``)."""
        cursors = CursorCodec(settings.jwt_secret)
        # Off until a source of other writers' changes is trusted (TotalsCache.trust).
        product_totals = TotalsCache(settings.totals_cache_seconds)
        limits = Limits(limiter, Rules.from_settings(settings))
        feed = ChangeFeed(
            db,
            {
                product_documents.COLLECTION: to_product,
                post_documents.COLLECTION: to_post,
                # Seen by no one in particular: no email (doors re-read for a viewer).
                user_documents.COLLECTION: lambda doc: to_user(doc, None),
            },
            settings,
            metrics,
        )
        # Totals are kept only while the feed hears every writer, and forgotten at each
        # change it hears or history it lost (writes of this process forget them at once).
        product_totals.trust(lambda: feed.live)
        # Every process hears the feed for itself: forgotten here only (writes of this
        # process also tell its sibling workers, TotalsCache.invalidate).
        feed.listen(product_documents.COLLECTION, lambda _item: product_totals.forget())
        posts = PostService(db)
        profiles = ProfileService(db)
        users = UserService(db, passwords, posts, profiles, limits, cursors)
        return cls(
            users=users,
            posts=posts,
            profiles=profiles,
            products=ProductService(db, cursors, product_totals),
            files=FileService(
                FileStore(db, purge_grace_ms=int(settings.deleted_file_grace * 1000)),
                max_file_bytes=settings.max_file_bytes,
                max_upload_bytes=settings.max_upload_bytes,
            ),
            contact=ContactService(db, limits),
            auth=AuthService(users, passwords, Tokens(settings), limits),
            limits=limits,
            health=HealthService(db, settings.mongo_timeout_ms / 1000),
            seed=SeedService(db, passwords, product_totals),
            feed=feed,
        )
