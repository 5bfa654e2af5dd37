"""``file_purges``: GridFS files taken off their path whose bytes are removed later.

A deleted file leaves its path at once (its claim goes), but downloads that
began before the deletion may still be reading its chunks: they are removed
once ``dueMs`` (epoch milliseconds) has passed, by the sweeper.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COLLECTION", "new_purge"]

COLLECTION = "file_purges"


def new_purge(file_id: Any, *, due_ms: int) -> dict[str, Any]:
    """The purge of GridFS file ``file_id``: its ``_id`` is the file's, so recording
    it twice (a deletion finished again by a sweeper) keeps one."""
    return {"_id": file_id, "dueMs": due_ms}
