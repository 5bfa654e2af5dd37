"""The root ``Subscription`` type: changes pushed from the process's change feed.

Each subscription takes the changes of one collection from the shared feed
(``gateway.change_feed``; one change stream per process, not one per client),
filters them for its subscriber and yields one change type per event. Refusals
(not signed in, too many subscriptions from this address, live data off) come
before the feed is subscribed, as the operation's error.

When the feed lost history (``Gap``: a stream that could not resume), the event is
an error with code ``RESYNC`` and no data: the client re-fetches what it shows,
and the subscription goes on.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types.field import StrawberryField

from gateway.change_feed import Change, Gap, SlowConsumer
from gateway.change_feed import Subscription as FeedSubscription
from gateway.change_feed_items import ProductFilter
from gateway.errors import GatewayError
from gateway.services.policy import require_signed_in
from resolvers.context import Info
from schema.changes import PostChange, ProductChange
from schema.enums import ChangeType
from schema.types import PostType, ProductType

__all__ = ["Resync", "SlowSubscriber", "Subscription"]

T = TypeVar("T")


class Resync(GatewayError):
    """History was lost: the client must re-fetch (the event of a feed ``Gap``)."""

    status_code = 409
    code = "RESYNC"


class SlowSubscriber(GatewayError):
    """The subscriber read its events too slowly and was dropped (the feed's
    ``SlowConsumer``): the transport closes the connection."""

    status_code = 429
    code = "SLOW_CONSUMER"


def subscription(description: str) -> Callable[[Callable[..., Any]], StrawberryField]:
    """``@strawberry.subscription(description=...)``, typed."""

    def decorate(resolver: Callable[..., Any]) -> StrawberryField:
        return strawberry.subscription(resolver, description=description)

    return decorate


async def _events(
    feed: FeedSubscription, convert: Callable[[Change], T | None]
) -> AsyncGenerator[T | GatewayError, None]:
    """The feed's items as events: a change ``convert`` keeps, or ``Resync`` for a gap.
    Leaving (the client unsubscribed or went away) unsubscribes from the feed."""
    async with feed:
        try:
            async for item in feed:
                if isinstance(item, Gap):
                    yield Resync(f"Changes were lost ({item.reason}): fetch again")
                    continue
                event = convert(item)
                if event is not None:
                    yield event
        except SlowConsumer:
            raise SlowSubscriber("Too many events unread: the subscription was dropped") from None


def _changes(
    kind: Callable[..., T], field: str, from_model: Callable[[Any], Any]
) -> Callable[[Change], T]:
    """What makes a change type ``kind`` of a ``Change``, its record (the service model,
    as ``from_model`` converts it) in ``field``."""

    def convert(change: Change) -> T:
        record = None if change.document is None else from_model(change.document)
        return kind(
            type=ChangeType(change.kind),
            id=strawberry.ID(change.document_id),
            event_id=change.event_id,
            **{field: record},
        )

    return convert


_product_change = _changes(ProductChange, "product", ProductType.from_model)
_post_change = _changes(PostChange, "post", PostType.from_model)


@strawberry.type
class Subscription:
    @subscription(
        "Products created, updated or deleted, by anyone: of one `category` or one `id` "
        "when given. A deleted product no longer has a category: deletions reach every "
        "subscriber (with `id`, only that product's). An error with code `RESYNC` says "
        "changes were lost: fetch again."
    )
    async def product_changed(
        self, info: Info, category: str | None = None, id: strawberry.ID | None = None
    ) -> AsyncGenerator[ProductChange, None]:
        wanted = ProductFilter.parse(category, id)  # the rule of REST's event stream too
        feed = info.context.services.feed.subscribe(
            ["products"], client=info.context.client, accept=wanted.matches
        )
        return _events(feed, _product_change)  # type: ignore[return-value]  # RESYNC errors too

    @subscription(
        "The signed-in user's own posts, created, updated or deleted. An error with code "
        "`RESYNC` says changes were lost: fetch again."
    )
    async def my_posts_changed(self, info: Info) -> AsyncGenerator[PostChange, None]:
        actor = require_signed_in(info.context.actor)
        feed = info.context.services.feed.subscribe(["posts"], client=info.context.client)
        # A deleted post no longer says whose it was: its id is known from before.
        posts, _ = await info.context.services.users.relations(
            [actor.id], posts=True, profile=False
        )
        mine = {post.id for post in posts.get(actor.id, [])}

        def wanted(change: Change) -> PostChange | None:
            post = change.document
            if post is not None and post.author_id == actor.id:
                mine.add(change.document_id)
            elif change.document_id not in mine:
                return None
            elif change.kind == "deleted":
                mine.discard(change.document_id)
            return _post_change(change)

        return _events(feed, wanted)  # type: ignore[return-value]

    @subscription(
        "Posts created, updated or deleted, by anyone (signed in); their authors are "
        "shown as to any other user (no email but one's own). An error with code "
        "`RESYNC` says changes were lost: fetch again."
    )
    async def posts_changed(self, info: Info) -> AsyncGenerator[PostChange, None]:
        require_signed_in(info.context.actor)
        feed = info.context.services.feed.subscribe(["posts"], client=info.context.client)
        return _events(feed, _post_change)  # type: ignore[return-value]
