"""``file_paths``: the claims, one per path, that say which GridFS file a path holds.

See ``gateway.gridfs_store.FileStore`` for what the states mean and who moves
a claim from one to the next.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["COLLECTION", "DELETING", "READY", "UPLOADING", "ClaimState", "new_claim"]

COLLECTION = "file_paths"
ClaimState = Literal["uploading", "ready", "deleting"]
UPLOADING: ClaimState = "uploading"
READY: ClaimState = "ready"
DELETING: ClaimState = "deleting"


def new_claim(
    path: str, file_id: Any, *, owner_id: str | None, state: ClaimState, alive_ms: int
) -> dict[str, Any]:
    """The claim of ``path`` for the GridFS file ``file_id``: its ``_id`` is the path,
    so that of two inserts for one path exactly one succeeds. (File ids are strings;
    a file stored before claims existed keeps whatever id it was given.)"""
    return {
        "_id": path,
        "fileId": file_id,
        "ownerId": owner_id,
        "state": state,
        "aliveMs": alive_ms,
    }
