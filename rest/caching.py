"""HTTP caching of the REST data routes: validators, 304, ``Cache-Control`` and ``Vary``.

Three policies, one per kind of answer:

* ``shared``: products look the same to every caller, so any cache may keep them
  for ``GATEWAY_CACHE_MAX_AGE`` seconds (``public, max-age=N``);
* ``PRIVATE``: users depend on who asks (the email is shown to themself and to
  admins only), so only the caller's own cache keeps them, revalidating every
  time, and ``Vary: Authorization`` keeps one caller's copy from another;
* ``NO_STORE``: tokens, token claims and errors are never kept.

A conditional GET (``If-None-Match``, else ``If-Modified-Since``) that names the
current representation is answered 304 with no body and the same headers,
whatever ``Cache-Control`` the request carries (``no-cache`` asks caches to
revalidate, which this is).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar import Response

from gateway.conditional import Validators, expected_versions, is_not_modified
from gateway.http import AnyRequest

__all__ = ["NO_STORE", "PRIVATE", "conditional", "expected", "shared"]

PRIVATE: Final[Mapping[str, str]] = {"Cache-Control": "private, no-cache", "Vary": "Authorization"}
NO_STORE: Final[Mapping[str, str]] = {"Cache-Control": "no-store"}


def shared(request: AnyRequest) -> Mapping[str, str]:
    """The policy of answers that are the same for every caller."""
    return {"Cache-Control": f"public, max-age={request.app.state.settings.cache_max_age}"}


def conditional(
    request: AnyRequest,
    content: Any,
    validators: Validators,
    policy: Mapping[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    by_date: bool = True,
) -> Response[Any]:
    """``content`` with its validators and caching ``policy``, or a 304 when the request's
    validators name it; ``by_date=False`` ignores ``If-Modified-Since`` (a page's newest
    date does not change when a record leaves it)."""
    both = {**validators.headers(), **policy}
    since = request.headers.get("if-modified-since") if by_date else None
    if is_not_modified(validators, request.headers.get("if-none-match"), since):
        return Response(None, status_code=304, headers=both)
    return Response(content, headers={**both, **(headers or {})})


def expected(request: AnyRequest) -> frozenset[int] | None:
    """The versions the request's ``If-Match`` lets a write find (None: any)."""
    return expected_versions(request.headers.get("if-match"))
