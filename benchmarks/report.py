"""The machine, the targets and ``results.md``."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks.measure import Summary
from benchmarks.scenarios import Scenario
from benchmarks.servers import UVICORN_OPTIONS
from benchmarks.wrk import CONNECTIONS, THREADS, TIMEOUT

__all__ = [
    "Machine",
    "Memory",
    "Outcome",
    "Target",
    "describe_machine",
    "evaluate",
    "figure",
    "num",
    "ratio_target",
    "render",
    "times",
    "unmeasured",
]

PACKAGES = ("litestar", "strawberry-graphql", "pymongo", "uvicorn", "uvloop", "httptools",
            "msgspec", "nx-27017")  # fmt: skip
RSS_LIMIT_MIB = 200.0
SAME_COST = 1.25  # "costs the same": within 25 %, the run-to-run noise of this kind of machine


@dataclass(frozen=True)
class Machine:
    """Where the figures were measured."""

    cpu: str
    cores: int
    memory_gib: float
    kernel: str
    system: str
    python: str
    packages: Mapping[str, str]
    wrk: str
    commit: str


def _first_value(path: str, key: str, default: str = "unknown") -> str:
    """The value of the first ``key: value`` (or ``key=value``) line of a file."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return default
    for line in lines:
        name, sep, value = line.replace("=", ":", 1).partition(":")
        if sep and name.strip() == key:
            return value.strip().strip('"')
    return default


def _package_version(name: str) -> str:
    """The installed version of a distribution."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _commit(repo: Path) -> str:
    """The repository's HEAD, abbreviated."""
    run = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - read-only query of the repo
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return run.stdout.strip() or "unknown"


def describe_machine(wrk: str, repo: Path) -> Machine:
    """The CPU, memory, kernel, Python and package versions of this run."""
    memory_kib = int(_first_value("/proc/meminfo", "MemTotal", "0 kB").split()[0])
    return Machine(
        cpu=_first_value("/proc/cpuinfo", "model name"),
        cores=os.cpu_count() or 0,
        memory_gib=memory_kib / 1024**2,
        kernel=platform.release(),
        system=_first_value("/etc/os-release", "PRETTY_NAME", platform.system()),
        python=platform.python_version(),
        packages={name: _package_version(name) for name in PACKAGES},
        wrk=wrk,
        commit=_commit(repo),
    )


@dataclass(frozen=True)
class Memory:
    """The gateway's memory after the whole run (MiB)."""

    gateway_rss: float
    gateway_peak: float
    db_rss: float | None


@dataclass
class Outcome:
    """Everything one ``make bench`` measured."""

    started: datetime
    duration_s: int
    warmup_s: int
    scenarios: Sequence[Scenario]
    results: dict[str, Summary] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    commands: dict[str, float] = field(default_factory=dict)  # database commands of one request
    nested: dict[int, dict[str, float]] = field(default_factory=dict)
    memory: Memory | None = None
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Target:
    """A goal of the issue, met or missed in this run; ``passed`` is None when not measured."""

    name: str
    goal: str
    measured: str
    passed: bool | None

    @property
    def mark(self) -> str:
        """PASS, MISS or n/a."""
        return {True: "PASS", False: "MISS", None: "n/a"}[self.passed]


def unmeasured(name: str, goal: str) -> Target:
    """A target whose scenario could not run."""
    return Target(name, goal, "unavailable", None)


def figure(value: float) -> str:
    """A measured value with the digits that mean something."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def times(ratio: float) -> str:
    """A ratio, written as a multiple."""
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def ratio_target(
    name: str, goal: str, value: float, base: float, unit: str, limit: float, low: bool
) -> Target:
    """A target on ``value / base``: at most ``limit`` when ``low``, else at least."""
    ratio = value / base if base else float("inf")
    passed = ratio <= limit if low else ratio >= limit
    detail = f"{times(ratio)} ({figure(value)} vs {figure(base)} {unit})"
    return Target(name, goal, detail, passed)


def _hello(r: Mapping[str, Summary]) -> Target:
    """The gateway's greeting against the plain Litestar route."""
    name, goal = "GET /api/hello throughput vs plain Litestar", ">= 0.80x"
    if "hello" not in r or "ref-litestar" not in r:
        return unmeasured(name, goal)
    return ratio_target(name, goal, r["hello"].rps, r["ref-litestar"].rps, "req/s", 0.8, low=False)


def _cpu_limit(r: Mapping[str, Summary], key: str, name: str, limit_ms: float) -> Target:
    """A ceiling on a scenario's gateway CPU per request."""
    goal = f"<= {limit_ms:.1f} ms gateway CPU per request"
    if key not in r:
        return unmeasured(name, goal)
    cpu = r[key].server_cpu_ms
    return Target(name, goal, f"{cpu:.2f} ms", cpu <= limit_ms)


def _nested_round_trips(nested: Mapping[int, Mapping[str, float]]) -> Target:
    """The nested users query costs as many commands for 20 users as for 1."""
    name, goal = "GraphQL users nested: database commands, 20 users vs 1", "equal"
    if not nested:
        return unmeasured(name, goal)
    one, twenty = sum(nested[1].values()), sum(nested[20].values())
    return Target(name, goal, f"{twenty:.0f} vs {one:.0f}", twenty == one)


def _nested_cpu(r: Mapping[str, Summary]) -> Target:
    """The nested users query against the products query, in gateway CPU."""
    name, goal = "GraphQL users(first: 20) nested: gateway CPU vs products query", "<= 2.00x"
    if "gql-users" not in r or "gql-products" not in r:
        return unmeasured(name, goal)
    users, products = r["gql-users"].server_cpu_ms, r["gql-products"].server_cpu_ms
    return ratio_target(name, goal, users, products, "ms", 2.0, low=True)


def _products_round_trips(commands: float | None) -> Target:
    """The REST products page costs no more commands than the contract needs."""
    name = "GET /api/products?page=2&limit=10: database commands per request"
    goal = "<= 2 (the page and its total)"
    if commands is None:
        return unmeasured(name, goal)
    return Target(name, goal, f"{commands:.0f}", commands <= 2)


def _deep(r: Mapping[str, Summary], what: str, figure: Callable[[Summary], float]) -> Target:
    """The page after item 9000 against the first page, on ``figure``."""
    name = f"GraphQL products after item 9000 vs first page: {what}"
    goal = f"<= {SAME_COST:.2f}x"
    if "gql-products-deep" not in r or "gql-products" not in r:
        return unmeasured(name, goal)
    deep, first = figure(r["gql-products-deep"]), figure(r["gql-products"])
    return ratio_target(name, goal, deep, first, "ms", SAME_COST, low=True)


def _persisted(r: Mapping[str, Summary]) -> Target:
    """The products query named by its hash against the same query sent as text."""
    name = "GraphQL products(first: 10) persisted (hash only) vs as text: gateway CPU"
    goal = "<= 1.00x"
    if "gql-products-apq" not in r or "gql-products" not in r:
        return unmeasured(name, goal)
    hashed, text = r["gql-products-apq"].server_cpu_ms, r["gql-products"].server_cpu_ms
    return ratio_target(name, goal, hashed, text, "ms", 1.0, low=True)


def _tail(r: Mapping[str, Summary], what: str, figure: Callable[[Summary], float]) -> Target:
    """The last MiB of a 50 MB file by range against a whole 1 MiB file, on ``figure``."""
    name = f"GET the last 1 MiB of a 50 MB file vs a whole 1 MiB file: {what}"
    goal = "<= 1.50x"
    if "download-tail" not in r or "download" not in r:
        return unmeasured(name, goal)
    tail, whole = figure(r["download-tail"]), figure(r["download"])
    return ratio_target(name, goal, tail, whole, "ms", 1.5, low=True)


def _not_modified(r: Mapping[str, Summary]) -> Target:
    """A conditional GET answered 304 against the same GET answered 200, in gateway CPU:
    both read the record (its validators are stored in it), the 304 sends no body; "no
    more" is within the run-to-run noise."""
    name = "GET /api/products/ID answered 304 vs 200: gateway CPU"
    goal = f"<= {SAME_COST:.2f}x"
    if "product-304" not in r or "product" not in r:
        return unmeasured(name, goal)
    cpu_304, cpu_200 = r["product-304"].server_cpu_ms, r["product"].server_cpu_ms
    return ratio_target(name, goal, cpu_304, cpu_200, "ms", SAME_COST, low=True)


def _memory(memory: Memory | None) -> Target:
    """The gateway's memory after the whole run."""
    name, goal = "Gateway RSS after the whole run", f"< {RSS_LIMIT_MIB:.0f} MiB"
    if memory is None:
        return unmeasured(name, goal)
    rss = memory.gateway_rss
    return Target(name, goal, f"{rss:.0f} MiB", rss < RSS_LIMIT_MIB)


def evaluate(outcome: Outcome) -> list[Target]:
    """The issue's targets, each a ratio or a count from this one run."""
    r = outcome.results
    return [
        _hello(r),
        _cpu_limit(r, "gql-products", "GraphQL products(first: 10): gateway CPU", 1.0),
        _nested_round_trips(outcome.nested),
        _nested_cpu(r),
        _cpu_limit(r, "products", "GET /api/products?page=2&limit=10: gateway CPU", 1.0),
        _products_round_trips(outcome.commands.get("products")),
        _deep(r, "gateway+database CPU per request", lambda s: s.total_cpu_ms),
        _deep(r, "p50 latency", lambda s: s.p50_ms),
        _persisted(r),
        _tail(r, "gateway+database CPU per request", lambda s: s.total_cpu_ms),
        _tail(r, "p50 latency", lambda s: s.p50_ms),
        _not_modified(r),
        _memory(outcome.memory),
    ]


def num(value: float | None, digits: int = 2) -> str:
    """A number with ``digits`` decimals, or a dash."""
    return "-" if value is None else f"{value:,.{digits}f}"


def _targets_table(targets: Sequence[Target]) -> list[str]:
    """The targets as a Markdown table."""
    lines = ["| Target | Goal | Measured | Result |", "|---|---|---|---|"]
    lines += [f"| {t.name} | {t.goal} | {t.measured} | **{t.mark}** |" for t in targets]
    return lines


def _scenario_row(
    scenario: Scenario, s: Summary, litestar: Summary | None, commands: float | None
) -> str:
    """One scenario's figures as a Markdown table row."""
    runs = " / ".join(f"{x.wrk.rps:,.0f}" for x in s.samples)
    versus = times(s.rps / litestar.rps) if litestar else "-"
    cells = [
        scenario.title, f"{s.rps:,.0f} ({runs})", versus, num(s.p50_ms), num(s.p99_ms),
        num(s.server_cpu_ms, 3), num(s.db_cpu_ms, 3), num(commands, 0),
        f"{s.errors:,} / {s.requests:,}", num(s.rss_mib, 0),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def _scenarios_table(outcome: Outcome) -> list[str]:
    """Every scenario as a Markdown table, unavailable ones with the reason."""
    lines = [
        "| Scenario | req/s (run 1 / run 2) | vs Litestar | p50 ms | p99 ms "
        "| server CPU ms/req | db CPU ms/req | db cmds/req | errors / requests | RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    litestar = outcome.results.get("ref-litestar")
    for scenario in outcome.scenarios:
        if scenario.key in outcome.results:
            summary, commands = outcome.results[scenario.key], outcome.commands.get(scenario.key)
            lines.append(_scenario_row(scenario, summary, litestar, commands))
        else:
            reason = outcome.unavailable.get(scenario.key, "not run")
            lines.append(f"| {scenario.title} | unavailable: {reason} |" + " |" * 8)
    return lines


def _error_notes(outcome: Outcome) -> list[str]:
    """A warning for each scenario that had errors: its figures include failed answers."""
    notes = []
    for scenario in outcome.scenarios:
        summary = outcome.results.get(scenario.key)
        if summary is not None and summary.errors:
            notes.append(
                f"> **Warning**: {scenario.title} had {summary.errors:,} errors in "
                f"{summary.requests:,} requests; its figures include failed answers "
                "(see `.bench/logs/`)."
            )
    return [*notes, ""] if notes else []


def _nested_section(nested: Mapping[int, Mapping[str, float]]) -> list[str]:
    """The commands of one nested users query, for 1 and 20 users."""
    if not nested:
        return ["Not measured: GraphQL is unavailable."]
    lines = ["| users(first: N) | commands | by collection.command |", "|---:|---:|---|"]
    for first, commands in sorted(nested.items()):
        detail = ", ".join(f"{key} {count:.0f}" for key, count in commands.items())
        lines.append(f"| {first} | {sum(commands.values()):.0f} | {detail} |")
    return lines


def _machine_section(m: Machine) -> list[str]:
    """The machine and the versions, as a Markdown list."""
    packages = ", ".join(f"{name} {v}" for name, v in m.packages.items())
    return [
        f"- CPU: {m.cpu}, {m.cores} cores; memory {m.memory_gib:.1f} GiB",
        f"- System: {m.system}, kernel {m.kernel}",
        f"- Python {m.python}; {packages}",
        f"- Load generator: {m.wrk}",
    ]


def _settings_section(outcome: Outcome) -> list[str]:
    """How the figures were measured, as a Markdown list."""
    return [
        f"- Servers: `uvicorn {' '.join(UVICORN_OPTIONS)}`, each its own process; the gateway "
        "with `GATEWAY_ENV=production`, `GATEWAY_LOG_LEVEL=WARNING`, on the embedded nx-27017, "
        "every rate limit counted but out of reach (`GATEWAY_RATE_*=999999999/60`).",
        "- Data: 1,000 users (5 posts and a profile each), 10,000 products in 20 categories.",
        f"- wrk: {THREADS} thread, {CONNECTIONS} connections, {outcome.duration_s:g} s after a "
        f"{outcome.warmup_s:g} s warm-up, `--timeout {TIMEOUT}`; every scenario twice, in two "
        "rounds that each run them all in turn. Figures are the mean of the two runs.",
        "- CPU: utime + stime from `/proc/<pid>/stat` of the server and of the database "
        "process, read once both are idle before a run and as soon as wrk stops, divided by "
        "the requests wrk completed.",
        '- db cmds/req: the change of `gateway_db_commands_total{source="app"}` (`/metrics`: '
        'the change feed\'s polls are `source="live"`) over one request sent alone, after a '
        "first one.",
        "- Errors: socket errors, timeouts and answers with a status of 400 or more.",
    ]


def _memory_section(memory: Memory | None) -> list[str]:
    """Memory after the run, as a Markdown list."""
    if memory is None:
        return ["Not measured."]
    return [
        f"- Gateway RSS after the whole run: {memory.gateway_rss:.0f} MiB "
        f"(peak {memory.gateway_peak:.0f} MiB)",
        f"- Database server RSS after the whole run: {num(memory.db_rss, 0)} MiB",
    ]


def _sections(sections: Mapping[str, Sequence[str]]) -> list[str]:
    """Titled sections in Markdown."""
    lines: list[str] = []
    for title, body in sections.items():
        lines += [f"## {title}", "", *body, ""]
    return lines


def render(
    outcome: Outcome,
    machine: Machine,
    targets: Sequence[Target],
    sections: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """``results.md``; ``sections`` (title: Markdown lines) follow the scenarios."""
    when = outcome.started.strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "# Gateway benchmark results",
            "",
            f"Produced by `make bench` on {when} at commit {machine.commit} "
            f"(working tree as it was), in {outcome.elapsed_s / 60:.1f} minutes.",
            "",
            "## Targets",
            "",
            *_targets_table(targets),
            "",
            "## Scenarios",
            "",
            *_scenarios_table(outcome),
            "",
            *_error_notes(outcome),
            *_sections(sections or {}),
            "## Nested users query: database commands of one request",
            "",
            *_nested_section(outcome.nested),
            "",
            "## Memory",
            "",
            *_memory_section(outcome.memory),
            "",
            "## Machine",
            "",
            *_machine_section(machine),
            "",
            "## Settings",
            "",
            *_settings_section(outcome),
            "",
        ]
    )
