"""The load test's figures, its targets, and its section of ``results.md``.

The section sits between ``SECTION_START`` and ``SECTION_END``, so that it and
``make bench``'s report can share the file: ``with_load_section`` puts a new
section in place of the old one (or appends it), ``carry_load_section`` keeps
the old one under a rewritten report.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

from argon2 import PasswordHasher

from benchmarks.load_traffic import (
    AttackKindResult,
    AttackResult,
    LoginStormResult,
    MixedResult,
    ProbeResult,
)
from benchmarks.report import Machine, Target
from benchmarks.servers import UVICORN_OPTIONS

__all__ = [
    "ARGON2_MIB",
    "ATTACK_RSS_LIMIT_MIB",
    "FLAT_GROWTH",
    "HELLO_P99_LIMIT_MS",
    "SECTION_END",
    "SECTION_START",
    "AttackOutcome",
    "LoadOutcome",
    "RssTrace",
    "StormOutcome",
    "carry_load_section",
    "evaluate",
    "render",
    "with_load_section",
]

SECTION_START = "<!-- load:start -->"
SECTION_END = "<!-- load:end -->"
HELLO_P99_LIMIT_MS = 50.0
# "Flat": RSS at the end at most 10 % above RSS at the end of the warm-up.
FLAT_GROWTH = 0.10
# Memory of one argon2 hash, as the gateway hashes (argon2-cffi's defaults: 64 MiB).
ARGON2_MIB = PasswordHasher().memory_cost / 1024
# Above "RSS before the storm + one hash per permitted concurrent hash": allocator slack,
# buffers of 16 clients' connections and answers.
STORM_MARGIN_MIB = 32.0
EXTRA_PACKAGES = ("argon2-cffi", "httpx")
ATTACK_RSS_LIMIT_MIB = 200.0
BUSY_LIMIT = 0.05  # above this share of the CPU used by other processes, the run is flagged


@dataclass(frozen=True)
class RssTrace:
    """The gateway's RSS over a run: ``(seconds from the start, MiB)``, in order."""

    points: tuple[tuple[float, float], ...]

    def at(self, seconds: float) -> float:
        """The first sample at or after ``seconds``."""
        return next(mib for t, mib in self.points if t >= seconds)

    def after(self, seconds: float) -> list[tuple[float, float]]:
        """The samples from ``seconds`` on."""
        return [(t, mib) for t, mib in self.points if t >= seconds]

    @property
    def final(self) -> float:
        """The last sample."""
        return self.points[-1][1]

    def slope_mib_per_min(self, seconds: float) -> float:
        """The least-squares trend of the samples from ``seconds`` on, in MiB per minute."""
        times, values = zip(*self.after(seconds), strict=True)
        return statistics.linear_regression(times, values).slope * 60


@dataclass(frozen=True)
class StormOutcome:
    """One login storm, on a gateway started with ``GATEWAY_HASH_CONCURRENCY=concurrency``."""

    concurrency: int
    is_default: bool
    idle_hello: ProbeResult  # the same probe just before the storm
    hello: ProbeResult
    logins: LoginStormResult
    rss_before_mib: float
    rss_peak_mib: float  # VmHWM: the most the process ever had resident
    rss_after_mib: float

    @property
    def rss_bound_mib(self) -> float:
        """The memory the cap allows: the RSS before, one hash per permitted hash, a margin."""
        return self.rss_before_mib + ARGON2_MIB * self.concurrency + STORM_MARGIN_MIB

    @property
    def label(self) -> str:
        """The setting, marked when it is the default."""
        return f"{self.concurrency} (default)" if self.is_default else str(self.concurrency)


@dataclass(frozen=True)
class AttackOutcome:
    """The attack phase, on a gateway of its own: the documents, the probe, the memory."""

    attack: AttackResult
    idle_probe: ProbeResult  # the same probe just before the attack
    probe: ProbeResult
    rss: RssTrace  # during the attack
    rss_peak_mib: float  # VmHWM at the end of the attack
    rss_after_mib: float  # a few seconds after it
    settings: tuple[str, ...]  # the gateway settings the phase changed


@dataclass(frozen=True)
class LoadOutcome:
    """Everything one ``make load`` measured."""

    started: datetime
    elapsed_s: float
    seed: str
    warmup_s: float
    storm_s: float
    mixed: MixedResult
    rss: RssTrace
    storms: Sequence[StormOutcome]
    other_cpu_s: float  # CPU time of the machine's other processes during the run
    attack: AttackOutcome | None = None

    def other_share(self, cores: int) -> float:
        """The share of the machine's CPU that other processes used during the run."""
        return self.other_cpu_s / (self.elapsed_s * max(cores, 1))


def _mixed_errors(mixed: MixedResult) -> Target:
    """No request of the mixed traffic failed."""
    measured = f"{mixed.errors:,} in {mixed.requests:,} requests"
    return Target("Mixed traffic: errors", "0", measured, mixed.errors == 0)


def _flat(rss: RssTrace, warmup_s: float) -> Target:
    """The gateway's RSS did not grow after the warm-up."""
    start = rss.at(warmup_s)
    growth = rss.final - start
    measured = (
        f"{start:.0f} -> {rss.final:.0f} MiB ({growth:+.1f} MiB, {growth / start:+.1%}); "
        f"trend {rss.slope_mib_per_min(warmup_s):+.1f} MiB/min"
    )
    name = f"Mixed traffic: gateway RSS from {warmup_s:g} s to the end"
    return Target(name, f"growth < {FLAT_GROWTH:.0%}", measured, growth < FLAT_GROWTH * start)


def _storm_latency(storm: StormOutcome) -> Target:
    """``GET /api/hello`` stayed fast, and nothing failed, during the storm."""
    errors = storm.hello.errors + storm.logins.errors
    measured = f"{storm.hello.latency.p99_ms:.1f} ms" + (f", {errors:,} errors" if errors else "")
    name = (
        f"Login storm ({storm.logins.clients} clients), hash concurrency {storm.label}: "
        "GET /api/hello p99"
    )
    goal = f"< {HELLO_P99_LIMIT_MS:.0f} ms, no errors"
    return Target(
        name, goal, measured, storm.hello.latency.p99_ms < HELLO_P99_LIMIT_MS and not errors
    )


def _storm_memory(storm: StormOutcome) -> Target:
    """The gateway's peak RSS stayed within what the hash cap allows."""
    name = f"Login storm, hash concurrency {storm.label}: gateway peak RSS"
    goal = (
        f"< {storm.rss_bound_mib:.0f} MiB ({storm.rss_before_mib:.0f} before + "
        f"{storm.concurrency} x {ARGON2_MIB:.0f} + {STORM_MARGIN_MIB:.0f})"
    )
    measured = f"{storm.rss_peak_mib:.0f} MiB"
    return Target(name, goal, measured, storm.rss_peak_mib < storm.rss_bound_mib)


def _attack_targets(outcome: AttackOutcome) -> list[Target]:
    """The probe stayed fast, and memory bounded, under the attack and after it."""
    probe = outcome.probe
    measured = f"{probe.latency.p99_ms:.1f} ms" + (
        f", {probe.errors:,} errors" if probe.errors else ""
    )
    during = max(mib for _, mib in outcome.rss.points)
    limit = f"< {ATTACK_RSS_LIMIT_MIB:.0f} MiB"
    return [
        Target(
            f"Attack ({outcome.attack.clients} clients): GET {probe.path} p99",
            f"< {HELLO_P99_LIMIT_MS:.0f} ms, no errors", measured,
            probe.latency.p99_ms < HELLO_P99_LIMIT_MS and not probe.errors,
        ),
        Target(
            "Attack: gateway RSS during (highest sample; peak VmHWM)", limit,
            f"{during:.0f} MiB; peak {outcome.rss_peak_mib:.0f} MiB",
            max(during, outcome.rss_peak_mib) < ATTACK_RSS_LIMIT_MIB,
        ),
        Target(
            "Attack: gateway RSS after", limit, f"{outcome.rss_after_mib:.0f} MiB",
            outcome.rss_after_mib < ATTACK_RSS_LIMIT_MIB,
        ),
    ]  # fmt: skip


def evaluate(outcome: LoadOutcome) -> list[Target]:
    """The issue's load targets."""
    targets = [_mixed_errors(outcome.mixed), _flat(outcome.rss, outcome.warmup_s)]
    for storm in outcome.storms:
        targets += [_storm_latency(storm), _storm_memory(storm)]
    if outcome.attack is not None:
        targets += _attack_targets(outcome.attack)
    return targets


def _targets_table(targets: Sequence[Target]) -> list[str]:
    """The targets as a Markdown table."""
    lines = ["| Target | Goal | Measured | Result |", "|---|---|---|---|"]
    return lines + [f"| {t.name} | {t.goal} | {t.measured} | **{t.mark}** |" for t in targets]


def _mixed_table(mixed: MixedResult) -> list[str]:
    """Each kind of request of the mixed traffic as a Markdown table row."""
    total_weight = sum(kind.weight for kind in mixed.kinds)
    lines = [
        "| Request | share | requests | errors | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in mixed.kinds:
        lat = kind.latency
        lines.append(
            f"| {kind.title} | {kind.weight / total_weight:.0%} | {lat.count:,} | {kind.errors:,} "
            f"| {lat.p50_ms:.1f} | {lat.p99_ms:.1f} | {lat.max_ms:.1f} |"
        )
    return lines


def _rss_line(rss: RssTrace, warmup_s: float) -> str:
    """The RSS trace, one figure every 5 s."""
    every = " ".join(f"{mib:.0f}" for t, mib in rss.points if t % 5 == 0)
    peak = max(mib for _, mib in rss.after(warmup_s))
    return (
        f"Gateway RSS in MiB, sampled every second, shown every 5 s from 0 s: {every}. "
        f"Highest after the warm-up: {peak:.0f} MiB."
    )


def _mixed_section(outcome: LoadOutcome) -> list[str]:
    """The mixed traffic's figures."""
    mixed = outcome.mixed
    lines = [
        f"{mixed.requests:,} requests in {mixed.duration_s:.0f} s ({mixed.rps:,.0f} req/s) from "
        f"{mixed.workers} workers, {mixed.errors:,} errors.",
        "",
        *_mixed_table(mixed),
        "",
        _rss_line(outcome.rss, outcome.warmup_s),
    ]
    if mixed.error_examples:
        lines += ["", "First errors:", "", *(f"- `{e[:300]}`" for e in mixed.error_examples)]
    return lines


def _storm_row(storm: StormOutcome) -> str:
    """One storm as a Markdown table row."""
    hello, idle, logins = storm.hello.latency, storm.idle_hello.latency, storm.logins
    cells = [
        storm.label, f"{logins.per_second:.1f}", f"{logins.latency.p50_ms:,.0f}",
        f"{hello.p50_ms:.1f} / {hello.p99_ms:.1f} / {hello.max_ms:.1f}",
        f"{idle.p50_ms:.1f} / {idle.p99_ms:.1f}",
        f"{storm.rss_before_mib:.0f}", f"{storm.rss_peak_mib:.0f}", f"{storm.rss_after_mib:.0f}",
        f"{logins.errors:,} / {storm.hello.errors:,}",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def _storm_section(storms: Sequence[StormOutcome]) -> list[str]:
    """The login storms' figures."""
    lines = [
        "| GATEWAY_HASH_CONCURRENCY | logins/s | login p50 ms | hello p50 / p99 / max ms "
        "| hello p50 / p99 ms before | RSS before MiB | peak RSS MiB | RSS after MiB "
        "| errors: logins / hello |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(_storm_row(storm) for storm in storms),
    ]
    examples = [e for storm in storms for e in storm.logins.error_examples]
    if examples:
        lines += ["", "First login errors:", "", *(f"- `{e[:300]}`" for e in examples)]
    return lines


def _attack_row(kind: AttackKindResult) -> str:
    """One kind of attack document as a Markdown table row."""
    lat = kind.latency
    costs = ", ".join(f"{cost:,}" for cost in kind.costs) or "-"
    cells = [
        kind.title, "yes" if kind.distinct else "no", f"{kind.document_bytes:,}", costs,
        f"{lat.count:,}", f"{kind.count(200, 299):,}", f"{kind.count(400, 499):,}",
        f"{kind.count(0, 199) + kind.count(300, 399) + kind.count(500, 599):,}",
        f"{kind.graphql_errors:,}", f"{lat.p50_ms:.1f}", f"{lat.p99_ms:.1f}", f"{lat.max_ms:.1f}",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def _attack_section(outcome: AttackOutcome) -> list[str]:
    """The attack phase's figures."""
    attack, probe, idle = outcome.attack, outcome.probe.latency, outcome.idle_probe.latency
    lines = [
        f"{attack.requests:,} attack requests in {attack.duration_s:.0f} s ({attack.rps:,.1f} "
        f"req/s) from {attack.clients} clients: {attack.count(200, 299):,} answered 2xx, "
        f"{attack.count(400, 499):,} 4xx, "
        f"{attack.requests - attack.count(200, 299) - attack.count(400, 499):,} other "
        "(5xx or no answer).",
        "",
        "| Document | new text each time | bytes | cost | requests | 2xx | 4xx | other "
        "| with GraphQL errors | p50 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(_attack_row(kind) for kind in attack.kinds),
        "",
        f"`GET {outcome.probe.path}` at {outcome.probe.rate:g} req/s meanwhile: p50 / p99 / max "
        f"{probe.p50_ms:.1f} / {probe.p99_ms:.1f} / {probe.max_ms:.1f} ms, "
        f"{outcome.probe.errors:,} errors (before the attack: p50 / p99 {idle.p50_ms:.1f} / "
        f"{idle.p99_ms:.1f} ms).",
        "",
        "Gateway RSS in MiB, sampled every second during the attack: "
        + " ".join(f"{mib:.0f}" for _, mib in outcome.rss.points)
        + f". Peak (VmHWM) {outcome.rss_peak_mib:.0f} MiB; {outcome.rss_after_mib:.0f} MiB "
        "after it.",
    ]
    if attack.examples:
        lines += [
            "",
            "First answers with errors:",
            "",
            *(f"- `{e[:300]}`" for e in attack.examples),
        ]
    return lines


def _package_version(name: str) -> str:
    """The installed version of a distribution."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _busy_warning(outcome: LoadOutcome, machine: Machine) -> list[str]:
    """A warning when other processes took a noticeable share of the CPU during the run."""
    share = outcome.other_share(machine.cores)
    if share <= BUSY_LIMIT:
        return []
    return [
        f"> **Warning**: other processes used {share:.0%} of the CPU during this run; "
        "latencies and throughput are worse than on an idle machine.",
        "",
    ]


def _machine_section(m: Machine, outcome: LoadOutcome) -> list[str]:
    """The machine, the versions and the other work it did meanwhile, as a Markdown list."""
    packages = {**m.packages, **{name: _package_version(name) for name in EXTRA_PACKAGES}}
    listed = ", ".join(f"{name} {v}" for name, v in packages.items())
    return [
        f"- CPU: {m.cpu}, {m.cores} cores; memory {m.memory_gib:.1f} GiB",
        f"- System: {m.system}, kernel {m.kernel}",
        f"- Python {m.python}; {listed}",
        f"- Load generator: {m.wrk}",
        f"- Other work on the machine during the run: {outcome.other_cpu_s:.0f} CPU seconds "
        f"({outcome.other_share(m.cores):.0%} of the {m.cores} cores): `/proc/stat` less the "
        "CPU time of this test's processes, to within a few CPU seconds",
    ]


def _settings_section(outcome: LoadOutcome) -> list[str]:
    """How the figures were measured, as a Markdown list."""
    return [
        f"- Gateway: `uvicorn {' '.join(UVICORN_OPTIONS)}` with `GATEWAY_ENV=production`, "
        "`GATEWAY_LOG_LEVEL=WARNING`, on the embedded nx-27017 seeded with "
        f"{outcome.seed}; every rate limit counted but out of reach "
        "(`GATEWAY_RATE_*=999999999/60`). A fresh gateway process (same data) for each storm.",
        f"- Mixed traffic: {outcome.mixed.workers} asyncio workers in a process of their own, "
        "each sending the next request, drawn by weight, as soon as the last one is answered. "
        "An error is a failed connection or timeout, a status outside 2xx, or GraphQL `errors`.",
        f"- Memory: the gateway's `VmRSS` every second; flat means the end is less than "
        f"{FLAT_GROWTH:.0%} above the sample at {outcome.warmup_s:g} s (the end of the warm-up). "
        "The trend is the least-squares slope of the samples after the warm-up.",
        f"- Login storm: {outcome.storms[0].logins.clients} clients in one process, each "
        "logging in again as soon as answered (correct password, argon2id verify), for "
        f"{outcome.storm_s:g} s; meanwhile another process sends `GET /api/hello` at "
        f"{outcome.storms[0].hello.rate:g} req/s on one kept-alive connection, each latency "
        "counted from when the request was due (a stall counts in every request it delays). "
        "'Before': the same probe for a few seconds just before the storm.",
        f"- Storm memory: peak RSS is `VmHWM` of the gateway process; the bound is its RSS "
        f"before the storm + {ARGON2_MIB:.0f} MiB (one argon2 hash) per permitted concurrent "
        f"hash + {STORM_MARGIN_MIB:.0f} MiB. Without a cap, 16 concurrent logins could take "
        f"{16 * ARGON2_MIB / 1024:.0f} GiB on top.",
        *_attack_settings(outcome.attack),
    ]


def _attack_settings(outcome: AttackOutcome | None) -> list[str]:
    """How the attack was measured, as a Markdown list."""
    if outcome is None:
        return []
    settings = ", ".join(f"`{setting}`" for setting in outcome.settings)
    return [
        f"- Attack: a fresh gateway (same data) with {settings} (so the attacker is never "
        f"rate limited, and introspection runs in production); {outcome.attack.clients} "
        "clients in one process, each sending the next document (in turn, of the kinds in the "
        "table) as soon as the last is answered; every other limit at its default. Meanwhile "
        f"another process sends `GET {outcome.probe.path}` at {outcome.probe.rate:g} req/s, "
        "latency counted from when each was due; the gateway's `VmRSS` is sampled every second, "
        "and read again a few seconds after the attack.",
    ]


def _attack_part(outcome: AttackOutcome | None) -> list[str]:
    """The attack's subsection, if it ran."""
    if outcome is None:
        return []
    return [
        "### Attack: the most expensive documents the limits admit",
        "",
        *_attack_section(outcome),
        "",
    ]


def render(outcome: LoadOutcome, machine: Machine, targets: Sequence[Target]) -> str:
    """The load test's section of ``results.md``, markers included."""
    when = outcome.started.strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            SECTION_START,
            "## Load test",
            "",
            f"Produced by `make load` on {when} at commit {machine.commit} "
            f"(working tree as it was), in {outcome.elapsed_s / 60:.1f} minutes.",
            "",
            *_busy_warning(outcome, machine),
            "### Load targets",
            "",
            *_targets_table(targets),
            "",
            f"### Mixed REST and GraphQL traffic, {outcome.mixed.duration_s:.0f} s",
            "",
            *_mixed_section(outcome),
            "",
            "### Login storm",
            "",
            *_storm_section(outcome.storms),
            "",
            *_attack_part(outcome.attack),
            "### Load test machine",
            "",
            *_machine_section(machine, outcome),
            "",
            "### Load test settings",
            "",
            *_settings_section(outcome),
            SECTION_END,
        ]
    )


def _split(document: str) -> tuple[str, str | None, str]:
    """The text before the load section, the section (None if absent), the text after."""
    start = document.find(SECTION_START)
    end = document.find(SECTION_END, start)
    if start < 0 or end < 0:
        return document, None, ""
    end += len(SECTION_END)
    return document[:start], document[start:end], document[end:]


def with_load_section(document: str, section: str) -> str:
    """``document`` with ``section`` in place of its load section, or appended."""
    before, old, after = _split(document)
    if old is None:
        return f"{before.rstrip()}\n\n{section}\n" if before.strip() else f"{section}\n"
    return f"{before}{section}{after}"


def carry_load_section(old_document: str, new_document: str) -> str:
    """``new_document`` with the load section of ``old_document``, if it had one."""
    section = _split(old_document)[1]
    return new_document if section is None else with_load_section(new_document, section)
