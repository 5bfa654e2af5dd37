"""A write counter shared by the worker processes of one ``gateway serve --workers N``.

Each worker keeps totals of its own (``gateway.totals``); a write through one worker
must make the others forget theirs before it is acknowledged, which the change feed
alone does only within its poll interval. So a worker that writes also bumps this
counter, a memory-mapped file in the directory the supervisor made for its workers,
and every worker compares it with the value it last saw before using a kept total.
A bump takes the file's lock (writes are rare); a read is one load from shared memory.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from pathlib import Path

__all__ = ["SharedGeneration"]

_COUNTER = struct.Struct("=Q")  # one native-endian, aligned 64-bit counter


class SharedGeneration:
    """A counter in ``path`` that every process opening the same file sees."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            if os.fstat(self._fd).st_size < _COUNTER.size:
                os.ftruncate(self._fd, _COUNTER.size)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._map = mmap.mmap(self._fd, _COUNTER.size)

    def value(self) -> int:
        """The counter now."""
        return int(_COUNTER.unpack_from(self._map)[0])

    def bump(self) -> int:
        """Add one (under the file's lock, so no increment is lost) and return the result."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            value = self.value() + 1
            _COUNTER.pack_into(self._map, 0, value)
            return value
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)
