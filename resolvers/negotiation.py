"""Which media type a GraphQL response is sent in, from the request's ``Accept``.

The GraphQL over HTTP specification defines two: ``application/json``, where
every well-formed request gets a 200, and ``application/graphql-response+json``,
where a request error (no ``data``) gets a 4xx. A client asks for the second
by listing it (as Apollo Client and graphql-http do); without an ``Accept``,
or with ``*/*``, it gets ``application/json``, as the specification advises.
"""

from __future__ import annotations

from typing import Final

__all__ = ["GRAPHQL_RESPONSE", "JSON", "response_media_type"]

JSON: Final = "application/json"
GRAPHQL_RESPONSE: Final = "application/graphql-response+json"


def response_media_type(accept: str | None) -> str:
    """``GRAPHQL_RESPONSE`` when ``accept`` prefers it (by quality, ties to it), else ``JSON``."""
    if not accept or "graphql-response" not in accept:
        return JSON
    wanted = json = 0.0
    for part in accept.split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media_range = media_range.lower()
        if media_range == GRAPHQL_RESPONSE:
            wanted = max(wanted, quality)
        elif media_range in (JSON, "application/*", "*/*"):
            json = max(json, quality)
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= json else JSON
