"""CPU time and memory of processes, read from Linux's /proc."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["child_with", "cpu_ms", "peak_rss_mib", "rss_mib"]

_MS_PER_TICK = 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """User plus system CPU time used by the process (all its threads), in milliseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) * _MS_PER_TICK


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
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:  # exited meanwhile
                continue
            if needle.encode() in command:
                return int(child)
    return None
