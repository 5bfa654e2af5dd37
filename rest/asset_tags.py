"""``<link>`` and ``<script>`` tags for the self-hosted pages (GraphiQL, the API docs)."""

from __future__ import annotations

import functools
import hashlib
import html
from collections.abc import Sequence
from pathlib import Path

__all__ = ["asset_tags"]


@functools.cache
def _versioned(directory: Path, prefix: str, name: str) -> str:
    """The asset's URL, versioned by a digest of its content (so it may be cached for good)."""
    digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()[:16]
    return html.escape(f"{prefix}/{name}?v={digest}")


def asset_tags(
    directory: Path, prefix: str, styles: Sequence[str], scripts: Sequence[str]
) -> tuple[str, str]:
    """The stylesheet links and the deferred script tags, one per line, for a page's head."""
    links = "\n".join(
        f'    <link rel="stylesheet" href="{_versioned(directory, prefix, name)}">'
        for name in styles
    )
    tags = "\n".join(
        f'    <script src="{_versioned(directory, prefix, name)}" defer></script>'
        for name in scripts
    )
    return links, tags
