"""The GraphQL multipart request spec's ``operations`` and ``map``, read strictly.

Strawberry's reader trusts the map: a path through a string, past a list's
end, or into ``variables: null`` raised an unexpected error (an HTTP 500).
Here every shape that is not exactly the spec's is refused with a message:
``operations`` must be one operation (batching is off), ``map`` an object
from each file's field name to the paths of ``null`` placeholders under
``variables`` that it fills, and every file sent must be mapped, and every
file mapped sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.errors import ValidationFailed

__all__ = ["operations_with_files"]

_MAX_SEGMENTS = 32


def operations_with_files(
    operations: object, files_map: object, files: Mapping[str, Any]
) -> dict[str, Any]:
    """``operations`` with each file put where ``files_map`` says.

    Raises:
        ValidationFailed: any part missing or malformed.
    """
    if not isinstance(operations, dict):
        raise ValidationFailed("Multipart 'operations' must be a JSON object (one operation)")
    if not isinstance(files_map, dict):
        raise ValidationFailed("Multipart 'map' must be a JSON object of file names to paths")
    unmapped = set(files) - set(files_map)
    if unmapped:
        raise ValidationFailed(f"File '{min(unmapped)}' is not in the multipart 'map'")
    for name, paths in files_map.items():
        if name not in files:
            raise ValidationFailed(f"File '{name}' named in the multipart 'map' was not sent")
        if not isinstance(paths, list) or not paths:
            raise ValidationFailed(f"Multipart 'map' entry '{name}' must be a list of paths")
        for path in paths:
            _place(operations, path, files[name], name)
    return operations


def _place(operations: dict[str, Any], path: object, file: Any, name: str) -> None:
    """Put ``file`` at ``path`` (``variables.<name>[.<key or index>...]``), a null placeholder."""
    if not isinstance(path, str):
        raise ValidationFailed(f"Multipart 'map' entry '{name}' holds a path that is not a string")
    segments = path.split(".")
    if len(segments) < 2 or segments[0] != "variables" or len(segments) > _MAX_SEGMENTS:
        raise ValidationFailed(f"Multipart path '{path[:100]}' must point into 'variables'")
    container: Any = operations
    for depth, segment in enumerate(segments):
        last = depth == len(segments) - 1
        if isinstance(container, dict):
            if segment not in container or (last and container[segment] is not None):
                raise ValidationFailed(f"Multipart path '{path}' does not name a null placeholder")
            if last:
                container[segment] = file
            else:
                container = container[segment]
        elif isinstance(container, list):
            index = int(segment) if segment.isascii() and segment.isdigit() else -1
            if not 0 <= index < len(container) or (last and container[index] is not None):
                raise ValidationFailed(f"Multipart path '{path}' does not name a null placeholder")
            if last:
                container[index] = file
            else:
                container = container[index]
        else:
            raise ValidationFailed(f"Multipart path '{path}' does not name a null placeholder")
