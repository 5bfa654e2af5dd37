"""``peers.svg``: the gateway beside each peer, per route, as horizontal bars.

For each route, one row per server: its requests per second, and its CPU per
request (the server's, then the database's, stacked). Each route has scales
of its own, so a route costing seconds does not flatten one costing
microseconds. Hand-written SVG, no plotting library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from benchmarks.measure import Summary
from benchmarks.peer_scenarios import PAIRINGS
from benchmarks.report import figure

__all__ = ["Bar", "bars_by_route", "peers_svg"]

_LABEL_W, _BAR_W, _VALUE_W, _GAP = 190, 200, 110, 20
_ROW_H, _TITLE_H, _HEAD_H, _MARGIN = 20, 26, 34, 10
_RPS_X = _MARGIN + _LABEL_W
_CPU_X = _RPS_X + _BAR_W + _VALUE_W + _GAP
_WIDTH = _CPU_X + _BAR_W + _VALUE_W + _MARGIN
_GATEWAY, _PEER, _DATABASE = "#2b6cb0", "#dd6b20", "#a0aec0"


@dataclass(frozen=True)
class Bar:
    """One server's figures on one route."""

    server: str
    rps: float
    server_ms: float
    db_ms: float


def bars_by_route(r: Mapping[str, Summary]) -> dict[str, list[Bar]]:
    """The gateway and a peer for each route and peer both measured, the gateway first.

    Each pair has its own scales: the legacy countDocuments page, hundreds of
    times slower, would flatten the aggregate count's bars beside it.
    """
    routes: dict[str, list[Bar]] = {}
    for pairing in PAIRINGS:
        if pairing.gateway in r and pairing.peer in r:
            routes[f"{pairing.route}, vs {pairing.peer_name}"] = [
                _bar("gateway", r[pairing.gateway]), _bar(pairing.peer_name, r[pairing.peer])
            ]  # fmt: skip
    return routes


def _bar(server: str, s: Summary) -> Bar:
    """A server's figures on a route."""
    return Bar(server, s.rps, s.server_cpu_ms, s.db_cpu_ms or 0.0)


def _rect(x: float, y: float, width: float, fill: str) -> str:
    """A bar of one row."""
    return (
        f'<rect x="{x:.1f}" y="{y + 3}" width="{max(width, 0.5):.1f}" '
        f'height="{_ROW_H - 6}" fill="{fill}"/>'
    )


def _text(x: float, y: float, content: str, extra: str = "") -> str:
    """A line of text whose baseline sits in the row starting at ``y``."""
    return f'<text x="{x:.1f}" y="{y + _ROW_H - 6}"{extra}>{escape(content)}</text>'


def _route(route: str, bars: Sequence[Bar], top: float) -> list[str]:
    """A route's title and its rows, from ``top`` down."""
    top_rps = max(bar.rps for bar in bars) or 1.0
    top_cpu = max(bar.server_ms + bar.db_ms for bar in bars) or 1.0
    parts = [_text(_MARGIN, top, route, ' font-weight="bold"')]
    for index, bar in enumerate(bars):
        y = top + _TITLE_H + index * _ROW_H
        color = _GATEWAY if bar.server == "gateway" else _PEER
        server_w = _BAR_W * bar.server_ms / top_cpu
        rps_w = _BAR_W * bar.rps / top_rps
        parts += [
            _text(_MARGIN, y, bar.server),
            _rect(_RPS_X, y, rps_w, color),
            _text(_RPS_X + rps_w + 4, y, figure(bar.rps)),
            _rect(_CPU_X, y, server_w, color),
            _rect(_CPU_X + server_w, y, _BAR_W * bar.db_ms / top_cpu, _DATABASE),
            _text(_CPU_X + _BAR_W * (bar.server_ms + bar.db_ms) / top_cpu + 4, y,
                  f"{figure(bar.server_ms)} + {figure(bar.db_ms)}"),
        ]  # fmt: skip
    return parts


def _legend() -> list[str]:
    """What each colour stands for, on the caption's line."""
    parts = []
    for index, (color, meaning) in enumerate(
        ((_GATEWAY, "gateway"), (_PEER, "peer"), (_DATABASE, "database"))
    ):
        x = _CPU_X + index * 80
        parts += [
            f'<rect x="{x}" y="4" width="10" height="10" fill="{color}"/>',
            _text(x + 14, 0, meaning),
        ]
    return parts


def peers_svg(routes: Mapping[str, Sequence[Bar]], caption: str) -> str:
    """The chart of ``routes`` as an SVG document."""
    parts = [
        _text(_MARGIN, 0, caption, ' font-weight="bold"'),
        _text(_RPS_X, _ROW_H - 4, "requests per second"),
        _text(_CPU_X, _ROW_H - 4, "CPU ms per request: server + database"),
        *_legend(),
    ]
    top = float(_HEAD_H + _MARGIN)
    for route, bars in routes.items():
        parts += _route(route, bars, top)
        top += _TITLE_H + len(bars) * _ROW_H + _MARGIN
    height = top + _MARGIN
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height:.0f}" '
            f'viewBox="0 0 {_WIDTH} {height:.0f}" font-family="sans-serif" font-size="12">',
            f'<rect width="{_WIDTH}" height="{height:.0f}" fill="white"/>',
            *parts,
            "</svg>",
            "",
        ]
    )
