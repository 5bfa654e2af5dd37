"""The metrics of many worker processes, added up (``gateway serve --workers N``).

Each worker writes its own numbers to a file of its own in a directory the
supervisor made (every ``SNAPSHOT_SECONDS``, on each scrape it answers, and
when it stops); whoever is scraped (any worker's ``/metrics``, or the
supervisor's metrics port) reads them all. Counters and histograms are summed,
a stopped worker's included, so totals never go back; gauges (memory, file
descriptors, start time) are per process, labelled ``pid``, live workers only.
Worker metrics kept in plain numbers (``RequestStats``) stay lock-free: only
the worker's own event loop reads them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import msgspec
from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

__all__ = ["SNAPSHOT_SECONDS", "WorkerTotals", "write_snapshot"]

SNAPSHOT_SECONDS = 1.0
_SUMMED = frozenset({"counter", "histogram", "summary", "gaugehistogram"})


class _Family(msgspec.Struct, array_like=True):
    name: str
    type: str
    documentation: str
    unit: str
    samples: list[tuple[str, dict[str, str], float]]


def write_snapshot(registry: CollectorRegistry, directory: Path, *, final: bool = False) -> None:
    """Replace this process's file with its current numbers (``final``: summed ones only)."""
    families = [
        _Family(m.name, m.type, m.documentation, m.unit, _samples(m))
        for m in registry.collect()
        if not final or m.type in _SUMMED
    ]
    path = directory / f"{os.getpid()}.json"
    partial = path.with_suffix(".partial")
    partial.write_bytes(msgspec.json.encode(families))
    os.replace(partial, path)  # readers see the old file or the new one, never half of one


def _samples(metric: Metric) -> list[tuple[str, dict[str, str], float]]:
    return [(sample.name, sample.labels, sample.value) for sample in metric.samples]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WorkerTotals(Collector):
    """The whole service's metrics from the workers' files; ``own`` (a worker's registry)
    is written out first, so the answering worker's numbers are current."""

    def __init__(self, directory: Path, own: CollectorRegistry | None = None) -> None:
        self._dir = directory
        self._own = own

    def collect(self) -> Iterator[Metric]:
        if self._own is not None:
            write_snapshot(self._own, self._dir)
        merged: dict[str, Metric] = {}
        sums: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
        for path in sorted(self._dir.glob("*.json")):
            try:
                families = msgspec.json.decode(path.read_bytes(), type=list[_Family])
            except (OSError, msgspec.DecodeError):
                continue  # removed meanwhile
            alive = _alive(int(path.stem))
            for family in families:
                if family.type not in _SUMMED and not alive:
                    continue
                metric = merged.get(family.name)
                if metric is None:
                    metric = merged[family.name] = Metric(
                        family.name, family.documentation, family.type, family.unit
                    )
                    sums[family.name] = {}
                if family.type in _SUMMED:
                    _add(sums[family.name], family.samples)
                else:
                    for name, labels, value in family.samples:
                        metric.add_sample(name, {**labels, "pid": path.stem}, value)
        for name, metric in merged.items():
            for (sample, label_pairs), value in sums[name].items():
                metric.add_sample(sample, dict(label_pairs), value)
            yield metric


def _add(
    totals: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    samples: list[tuple[str, dict[str, str], float]],
) -> None:
    for name, labels, value in samples:
        key = (name, tuple(sorted(labels.items())))
        if key not in totals:
            totals[key] = value
        elif name.endswith("_created"):  # a timestamp: the earliest worker's
            totals[key] = min(totals[key], value)
        else:
            totals[key] += value
