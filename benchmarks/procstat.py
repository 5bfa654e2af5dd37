"""CPU time and memory of processes, read from Linux's /proc."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["child_with", "cpu_ms", "peak_rss_mib", "rss_mib", "tree_cpu_ms"]

_MS_PER_TICK = 1000 / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3 of proc(5) first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_ms(pid: int) -> float:
    """User plus system CPU time used by the process (all its threads), in milliseconds."""
    fields = _stat_fields(pid)
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) * _MS_PER_TICK


def _children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children (of all its threads)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return children


def tree_cpu_ms(pid: int, exclude: int | None = None) -> float:
    """CPU milliseconds of ``pid`` and its descendants, but not of ``exclude`` and its own.

    Each process counts its own time and its reaped children's (cutime and
    cstime), so a child that ended in between is still charged. A server made
    of several processes (node, uvicorn's workers) is charged as a whole.
    """
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        if current == exclude:
            continue
        try:
            fields = _stat_fields(current)
            pending += _children(current)
        except FileNotFoundError:  # exited meanwhile: its parent's cutime holds it now
            continue
        total += sum(int(value) for value in fields[11:15]) * _MS_PER_TICK  # fields 14 to 17
    return total


def _status_kib(pid: int, key: str) -> int:
    """A ``kB`` line of /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise LookupError(f"{key} not in /proc/{pid}/status")


def rss_mib(pid: int) -> float:
    """Resident memory now, in MiB."""
    return _status_kib(pid, "VmRSS") / 1024


def peak_rss_mib(pid: int) -> float:
    """The most resident memory the process ever had, in MiB."""
    return _status_kib(pid, "VmHWM") / 1024


def child_with(pid: int, needle: str) -> int | None:
    """The child process of ``pid`` whose command line contains ``needle``, if any."""
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:  # exited meanwhile
            continue
        if needle.encode() in command:
            return child
    return None
