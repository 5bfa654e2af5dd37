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
    """The measured gateway and peers of each route, the gateway first."""
    routes: dict[str, list[Bar]] = {}
    for pairing in PAIRINGS:
        bars = routes.setdefault(pairing.route, [])
        for server, key in (("gateway", pairing.gateway), (pairing.peer_name, pairing.peer)):
            if key in r and all(bar.server != server for bar in bars):
                s = r[key]
                bars.append(Bar(server, s.rps, s.server_cpu_ms, s.db_cpu_ms or 0.0))
    return {route: bars for route, bars in routes.items() if bars}


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
            _text(_RPS_X + rps_w + 4, y, f"{bar.rps:,.0f}"),
            _rect(_CPU_X, y, server_w, color),
            _rect(_CPU_X + server_w, y, _BAR_W * bar.db_ms / top_cpu, _DATABASE),
            _text(_CPU_X + _BAR_W * (bar.server_ms + bar.db_ms) / top_cpu + 4, y,
                  f"{bar.server_ms:.2f} + {bar.db_ms:.2f}"),
        ]  # fmt: skip
    return parts


def peers_svg(routes: Mapping[str, Sequence[Bar]], caption: str) -> str:
    """The chart of ``routes`` as an SVG document."""
    parts = [
        _text(_MARGIN, 0, caption, ' font-weight="bold"'),
        _text(_RPS_X, _ROW_H - 4, "requests per second"),
        _text(_CPU_X, _ROW_H - 4, "CPU ms per request: server + database"),
        f'<rect x="{_CPU_X + 250}" y="{_ROW_H + 3}" width="10" height="10" fill="{_DATABASE}"/>',
        _text(_CPU_X + 264, _ROW_H - 4, "database"),
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
