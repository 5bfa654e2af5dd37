"""Charging a wrk run with what it cost: CPU of the server and of its database, memory."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchmarks.client import db_commands
from benchmarks.procstat import cpu_ms, rss_mib, tree_cpu_ms
from benchmarks.wrk import WrkResult

__all__ = ["Probe", "Sample", "Summary", "commands_of", "measure", "settle"]

_SETTLE_POLL_S = 0.2
# A peer's legacy countDocuments page leaves the database counting for half a minute.
_SETTLE_LIMIT_S = 60.0
_IDLE_MS = 10.0  # one clock tick: a process using no more than this per poll is idle


@dataclass(frozen=True)
class Probe:
    """The processes a run is charged to: the server's process tree, and the database process.

    The database process is charged apart even when it is the server's child
    (the gateway's embedded database); a peer on the same database is charged
    its CPU as the gateway is.
    """

    server_pid: int
    db_pid: int | None = None


@dataclass(frozen=True)
class _Counters:
    """CPU milliseconds used so far by the server and its database."""

    server_cpu_ms: float
    db_cpu_ms: float | None


def _read(probe: Probe) -> _Counters:
    """The probe's counters now."""
    return _Counters(
        server_cpu_ms=_server_ms(probe),
        db_cpu_ms=cpu_ms(probe.db_pid) if probe.db_pid is not None else None,
    )


def _server_ms(probe: Probe) -> float:
    """CPU milliseconds the server's processes have used so far, its database's apart."""
    return tree_cpu_ms(probe.server_pid, exclude=probe.db_pid)


def _busy_ms(probe: Probe) -> float:
    """CPU milliseconds the server and its database have used so far, together."""
    total = _server_ms(probe)
    return total + (cpu_ms(probe.db_pid) if probe.db_pid is not None else 0.0)


def settle(probe: Probe) -> None:
    """Wait until the processes are idle: what a previous run left in flight is charged to none."""
    deadline = time.monotonic() + _SETTLE_LIMIT_S
    last = _busy_ms(probe)
    while time.monotonic() < deadline:
        time.sleep(_SETTLE_POLL_S)
        now = _busy_ms(probe)
        if now - last <= _IDLE_MS:
            return
        last = now


@dataclass(frozen=True)
class Sample:
    """One measured wrk run and what it cost."""

    wrk: WrkResult
    server_cpu_ms: float
    db_cpu_ms: float | None
    rss_mib: float

    @property
    def server_cpu_per_request(self) -> float:
        """Server CPU milliseconds per completed request."""
        return self.server_cpu_ms / max(self.wrk.requests, 1)

    @property
    def db_cpu_per_request(self) -> float | None:
        """Database CPU milliseconds per completed request."""
        return None if self.db_cpu_ms is None else self.db_cpu_ms / max(self.wrk.requests, 1)


def measure(probe: Probe, drive: Callable[[], WrkResult]) -> Sample:
    """Run ``drive`` between two readings of the probe's counters.

    The first reading waits for idle processes; the second is taken the moment
    wrk stops. The servers are saturated throughout, so the CPU used in
    between, divided by the requests completed in between, is the cost of a
    request; waiting for the requests wrk abandoned would charge them too.
    """
    settle(probe)
    before = _read(probe)
    result = drive()
    after = _read(probe)
    db_cpu = None
    if after.db_cpu_ms is not None and before.db_cpu_ms is not None:
        db_cpu = after.db_cpu_ms - before.db_cpu_ms
    return Sample(
        wrk=result,
        server_cpu_ms=after.server_cpu_ms - before.server_cpu_ms,
        db_cpu_ms=db_cpu,
        rss_mib=rss_mib(probe.server_pid),
    )


def commands_of(metrics_url: str, token: str, send: Callable[[], object]) -> dict[str, float]:
    """The database commands (``collection.command``: count) that ``send`` caused: the
    application's, not those the change feed sent meanwhile (``client.db_commands``)."""
    before = db_commands(metrics_url, token)
    send()
    after = db_commands(metrics_url, token)
    changed = {key: value - before.get(key, 0.0) for key, value in after.items()}
    return {key: count for key, count in sorted(changed.items()) if count}


def _mean(values: Sequence[float | None]) -> float | None:
    """The mean of the values present, or None if none is."""
    present = [value for value in values if value is not None]
    return statistics.fmean(present) if present else None


@dataclass(frozen=True)
class Summary:
    """A scenario's runs, averaged (the mean of two runs is their median)."""

    samples: tuple[Sample, ...]

    @property
    def rps(self) -> float:
        """Requests per second."""
        return statistics.fmean(s.wrk.rps for s in self.samples)

    @property
    def p50_ms(self) -> float:
        """Median latency."""
        return statistics.fmean(s.wrk.p50_ms for s in self.samples)

    @property
    def p99_ms(self) -> float:
        """99th percentile latency."""
        return statistics.fmean(s.wrk.p99_ms for s in self.samples)

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU milliseconds per request."""
        return statistics.fmean(s.server_cpu_per_request for s in self.samples)

    @property
    def db_cpu_ms(self) -> float | None:
        """Database CPU milliseconds per request."""
        return _mean([s.db_cpu_per_request for s in self.samples])

    @property
    def total_cpu_ms(self) -> float:
        """Server plus database CPU milliseconds per request."""
        return self.server_cpu_ms + (self.db_cpu_ms or 0.0)

    @property
    def errors(self) -> int:
        """Errors over all runs."""
        return sum(s.wrk.errors for s in self.samples)

    @property
    def requests(self) -> int:
        """Requests completed over all runs."""
        return sum(s.wrk.requests for s in self.samples)

    @property
    def rss_mib(self) -> float:
        """Server memory after the last run."""
        return self.samples[-1].rss_mib
