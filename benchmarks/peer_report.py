"""The gateway beside its peers and beside itself with two workers: targets and tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from benchmarks.measure import Summary
from benchmarks.peer_scenarios import PAIRINGS, WORKER_PAIRINGS, Pairing
from benchmarks.report import Target, figure, num, ratio_target, times, unmeasured

__all__ = ["peer_targets", "peers_section", "workers_section"]

THROUGHPUT = 1.5  # the gateway serves at least this many times the Next.js peer's req/s
TOTAL_CPU = 0.67  # ... for at most this share of its CPU (server + database) per request
APOLLO_CPU = 1.25  # the gateway's GraphQL CPU per request against Apollo's


def _pair(r: Mapping[str, Summary], pairing: Pairing) -> tuple[Summary, Summary] | None:
    """The gateway's and the peer's figures, when both were measured."""
    if pairing.gateway in r and pairing.peer in r:
        return r[pairing.gateway], r[pairing.peer]
    return None


def _next_targets(r: Mapping[str, Summary], pairing: Pairing) -> list[Target]:
    """Throughput and total CPU of a route the Next.js peer serves."""
    name = f"{pairing.route} vs {pairing.peer_name}"
    goals = (f">= {THROUGHPUT:.2f}x", f"<= {TOTAL_CPU:.2f}x")
    names = (f"{name}: throughput", f"{name}: server + database CPU per request")
    pair = _pair(r, pairing)
    if pair is None:
        return [unmeasured(n, g) for n, g in zip(names, goals, strict=True)]
    gateway, peer = pair
    return [
        ratio_target(names[0], goals[0], gateway.rps, peer.rps, "req/s", THROUGHPUT, low=False),
        ratio_target(
            names[1], goals[1], gateway.total_cpu_ms, peer.total_cpu_ms, "ms", TOTAL_CPU, low=True
        ),
    ]


def _apollo_target(r: Mapping[str, Summary], pairing: Pairing) -> Target:
    """The gateway's GraphQL CPU against Apollo's, each without the database's."""
    name = f"{pairing.route} vs {pairing.peer_name}: server CPU per request"
    goal = f"<= {APOLLO_CPU:.2f}x"
    pair = _pair(r, pairing)
    if pair is None:
        return unmeasured(name, goal)
    gateway, peer = pair
    return ratio_target(
        name, goal, gateway.server_cpu_ms, peer.server_cpu_ms, "ms", APOLLO_CPU, low=True
    )


def peer_targets(r: Mapping[str, Summary]) -> list[Target]:
    """Issue 16's targets against the peers, each a ratio from this run."""
    targets: list[Target] = []
    for pairing in PAIRINGS:
        if pairing.peer.startswith("apollo"):
            targets.append(_apollo_target(r, pairing))
        else:
            targets += _next_targets(r, pairing)
    return targets


def _row(server: str, s: Summary) -> list[str]:
    """A server's figures: req/s and CPU per request."""
    return [
        server, figure(s.rps), num(s.server_cpu_ms, 3), num(s.db_cpu_ms, 3),
        num(s.total_cpu_ms, 3),
    ]  # fmt: skip


def _share(value: float, base: float) -> str:
    """``value / base`` as a multiple, or a dash when ``base`` is nothing (no request served)."""
    return times(value / base) if base else "-"


def _comparison(
    r: Mapping[str, Summary], pairings: Sequence[Pairing], unavailable: Mapping[str, str]
) -> list[str]:
    """Each pairing as two rows, gateway then peer, the peer's row with the ratios."""
    subject = pairings[0].gateway_name
    lines = [
        "| Route | Server | req/s | server CPU ms/req | db CPU ms/req | total CPU ms/req "
        f"| {subject} req/s vs it | {subject} total CPU vs it |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for pairing in pairings:
        pair = _pair(r, pairing)
        if pair is None:
            reason = unavailable.get(pairing.peer) or unavailable.get(pairing.gateway, "not run")
            lines.append(f"| {pairing.route} | {pairing.peer_name} | unavailable: {reason} |"
                         + " |" * 5)  # fmt: skip
            continue
        gateway, peer = pair
        rps = _share(gateway.rps, peer.rps)
        cpu = _share(gateway.total_cpu_ms, peer.total_cpu_ms)
        gateway_cells = [pairing.route, *_row(pairing.gateway_name, gateway), "", ""]
        lines.append("| " + " | ".join(gateway_cells) + " |")
        cells = [pairing.route, *_row(pairing.peer_name, peer), rps, cpu]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def peers_section(r: Mapping[str, Summary], unavailable: Mapping[str, str]) -> list[str]:
    """The gateway beside each peer, on the same database, in Markdown."""
    return _comparison(r, PAIRINGS, unavailable)


def workers_ratios(r: Mapping[str, Summary]) -> list[tuple[str, str]]:
    """Each route's throughput with two workers over that with one."""
    return [
        (pairing.route, _share(r[pairing.peer].rps, r[pairing.gateway].rps))
        for pairing in WORKER_PAIRINGS
        if _pair(r, pairing) is not None
    ]


def workers_section(r: Mapping[str, Summary], unavailable: Mapping[str, str]) -> list[str]:
    """``gateway serve --workers 2`` against the single process, in Markdown."""
    lines = _comparison(r, WORKER_PAIRINGS, unavailable)
    lines += ["", *[f"- {route}: 2 workers serve {ratio} the requests per second of one."
                    for route, ratio in workers_ratios(r)]]  # fmt: skip
    return lines
