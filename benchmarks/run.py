"""``make bench``: load the gateway, two reference servers and its peers with wrk; write
``results.md`` and ``peers.svg``.

Starts a bare ASGI app, a plain Litestar app and the gateway (production
settings, embedded database seeded with 1,000 users and 10,000 products), all
under the same uvicorn settings; then, on the gateway's database, its peers
(the legacy Next.js API routes and Apollo Server 5, installed from their lock
files when missing; see ``peer_servers``) and ``gateway serve --workers 2``;
sends every scenario's request alone, to
check it and to count its database commands (and those of the nested users
query for 1 and for 20 users); then runs every scenario twice with wrk, in two
alternating rounds, each run after a warm-up; then has 1,000 subscribers of the
gateway's product event stream receive one change (``fanout``); and reports each
figure next to the references and the issue's targets, marked PASS or MISS.

Usage: ``python -m benchmarks.run [--duration 10] [--warmup 2]`` from the repository root.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.chart import bars_by_route, peers_svg
from benchmarks.client import graphql
from benchmarks.fanout import (
    SUBSCRIBERS,
    FanOut,
    fanout_lines,
    fanout_targets,
    measure_fanout,
)
from benchmarks.load_results import carry_load_section
from benchmarks.measure import Probe, Sample, Summary, commands_of, measure, settle
from benchmarks.peer_report import peer_targets, peers_section, workers_section
from benchmarks.peer_scenarios import peer_scenarios
from benchmarks.peer_servers import PEERS, install, peer_server, workers_server
from benchmarks.procstat import child_with, peak_rss_mib, rss_mib
from benchmarks.report import Memory, Outcome, Target, describe_machine, evaluate, render
from benchmarks.scenarios import (
    Scenario,
    build_scenarios,
    prepare_fixtures,
    problem,
    send,
    users_query,
)
from benchmarks.servers import Server, check_uvicorn_extras
from benchmarks.wrk import WrkResult, ensure_wrk, run_wrk, wrk_version
from gateway.config import PREFIX, Settings

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent
WORK_DIR = REPO / ".bench"  # data, logs and request bodies of the latest run
RESULTS = Path(__file__).with_name("results.md")
CHART = Path(__file__).with_name("peers.svg")
ROUNDS = 2
SEED = ("--users", "1000", "--posts", "5", "--products", "10000", "--categories", "20")
DB_COMMAND_LINE = "nx_27017"  # how the embedded database's process is recognised
READY_PATHS = {"bare": "/", "litestar": "/api/hello", "gateway": "/readyz"}
REFERENCES = ("bare", "litestar")  # the servers that use no database
# wrk is one client address sending thousands of requests: every rate limit stays
# in force (its counting is part of a request's cost) but out of reach.
UNREACHABLE_RATE = "999999999/60"
# /metrics is guarded in production: the bench reads the command counters with this token.
METRICS_TOKEN = secrets.token_urlsafe(24)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line: run lengths."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per run")
    return parser.parse_args(argv)


def _base_env() -> dict[str, str]:
    """This environment without ``GATEWAY_*``, with the repository importable from anywhere."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _gateway_env(data_dir: Path) -> dict[str, str]:
    """Production settings on a data directory of the benchmark's own."""
    return {
        **_base_env(),
        "GATEWAY_ENV": "production",
        "GATEWAY_JWT_SECRET": secrets.token_urlsafe(36),  # 48 characters
        "GATEWAY_DATA_DIR": str(data_dir),
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GATEWAY_MONGODB_URI": "",  # the embedded database
        "GATEWAY_METRICS_TOKEN": METRICS_TOKEN,
        # The fan-out's subscribers all come from this one address.
        "GATEWAY_LIVE_MAX_PER_CLIENT": str(2 * SUBSCRIBERS),
        **{
            f"{PREFIX}{name.upper()}": UNREACHABLE_RATE
            for name in Settings.__struct_fields__
            if name.startswith("rate_")
        },
    }


def _servers(gateway_env: Mapping[str, str]) -> dict[str, Server]:
    """The three servers; they run in ``WORK_DIR``, so no ``.env`` file of the repo applies."""
    logs = WORK_DIR / "logs"
    logs.mkdir(parents=True)
    targets = {
        "bare": ("benchmarks.reference_apps:bare_app", _base_env()),
        "litestar": ("benchmarks.reference_apps:litestar_app", _base_env()),
        "gateway": ("benchmarks.gateway_app:app", dict(gateway_env)),
    }
    return {
        name: Server(name, target, env, logs / f"{name}.log", WORK_DIR)
        for name, (target, env) in targets.items()
    }


def _seed(gateway_env: Mapping[str, str]) -> None:
    """Seed through the CLI, which attaches to the running gateway's embedded database."""
    print("seeding 1,000 users (5 posts each) and 10,000 products", flush=True)
    with (WORK_DIR / "logs" / "seed.log").open("wb") as log:
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [sys.executable, "-m", "gateway.cli", "seed", *SEED],
            cwd=WORK_DIR, env=dict(gateway_env), stdout=log, stderr=subprocess.STDOUT, check=True,
        )  # fmt: skip


def _database_pid(servers: Mapping[str, Server]) -> int:
    """The process of the gateway's embedded database."""
    db_pid = child_with(servers["gateway"].pid, DB_COMMAND_LINE)
    if db_pid is None:
        raise SystemExit("the gateway's embedded database process was not found")
    return db_pid


def _probes(servers: Mapping[str, Server], db_pid: int) -> dict[str, Probe]:
    """What each server's runs are charged to: its process tree, and unless it is a
    reference, the gateway's embedded database process ``db_pid``, which the peers share."""
    return {
        name: Probe(server.pid, None if name in REFERENCES else db_pid)
        for name, server in servers.items()
    }


def _install_peers(logs: Path) -> tuple[list[str], dict[str, str]]:
    """Install the peers missing or out of date: those ready, and why the others are not."""
    ready, skipped = [], {}
    for peer in PEERS:
        reason = install(peer, _base_env(), logs / f"{peer.name}-install.log")
        if reason is None:
            ready.append(peer.name)
        else:
            print(f"skipping the {peer.name} peer: {reason}", flush=True)
            skipped[peer.name] = reason
    return ready, skipped


def _database_uri(data_dir: Path) -> str:
    """The URI of the embedded database the gateway serves ``data_dir`` with."""
    port = json.loads((data_dir / "embedded.json").read_text())["port"]
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


def _start_on_database(
    gateway_env: Mapping[str, str], peers: Sequence[str], skipped: dict[str, str]
) -> dict[str, Server]:
    """Start the peers, and the gateway served by its CLI with one worker and with two, on
    the running gateway's database.

    One that does not start is recorded in ``skipped`` with the reason.
    """
    uri = _database_uri(Path(gateway_env["GATEWAY_DATA_DIR"]))
    logs = WORK_DIR / "logs"
    env = {**_base_env(), "MONGODB_URI": uri, "MONGODB_DB": Settings().db_name}
    candidates: list[tuple[Server, str]] = [
        (peer_server(peer, env, logs), peer.ready_path) for peer in PEERS if peer.name in peers
    ]
    candidates += [
        (workers_server(gateway_env, uri, workers, logs, WORK_DIR), "/readyz") for workers in (1, 2)
    ]
    started: dict[str, Server] = {}
    for server, ready_path in candidates:
        print(f"starting {server.name}", flush=True)
        try:
            server.start(ready_path)
        except SystemExit as exc:
            server.stop()
            print(f"skipping {server.name}: {exc}", flush=True)
            skipped[server.name] = str(exc)
            continue
        started[server.name] = server
    return started


def _check(
    outcome: Outcome, scenarios: Sequence[Scenario], servers: Mapping[str, Server]
) -> list[Scenario]:
    """Those of ``scenarios`` that answer as expected, each with the database commands of
    one request (the gateway's).

    The others are recorded in ``outcome.unavailable`` with the reason.
    """
    runnable = []
    for scenario in scenarios:
        url = servers[scenario.server].url
        reason = problem(scenario, send(scenario, url))
        if reason is not None:
            print(f"unavailable: {scenario.title}: {reason}", flush=True)
            outcome.unavailable[scenario.key] = reason
            continue
        runnable.append(scenario)
        if scenario.server == "gateway":
            commands = commands_of(url, METRICS_TOKEN, functools.partial(send, scenario, url))
            outcome.commands[scenario.key] = sum(commands.values())
    return runnable


def _nested_commands(url: str, token: str) -> dict[int, dict[str, float]]:
    """The database commands of one nested users query, for 1 user and for 20."""
    return {
        first: commands_of(
            url, METRICS_TOKEN, functools.partial(graphql, url, users_query(first), token)
        )
        for first in (1, 20)
    }


def _body_files(scenarios: Sequence[Scenario]) -> dict[str, Path]:
    """Write each request body to a file for ``lua/request.lua`` to read."""
    bodies = WORK_DIR / "bodies"
    bodies.mkdir(exist_ok=True)
    files = {}
    for scenario in scenarios:
        if scenario.body is not None:
            files[scenario.key] = bodies / f"{scenario.key}.body"
            files[scenario.key].write_bytes(scenario.body)
    return files


def _run_once(
    wrk: str, scenario: Scenario, server: Server, probe: Probe, body: Path | None,
    unique: str, args: argparse.Namespace,
) -> Sample:  # fmt: skip
    """A warm-up, then a measured run of ``scenario``."""

    def drive(seconds: int, phase: str) -> WrkResult:
        """wrk for ``seconds``; ``phase`` keeps warm-up and measured upload paths apart."""
        script_args = scenario.wrk_args(body, f"{unique}-{phase}")
        return run_wrk(wrk, server.url, scenario.script, script_args, seconds)

    drive(args.warmup, "warm")
    return measure(probe, lambda: drive(args.duration, "run"))


def _report_line(sample: Sample) -> str:
    """A run's figures, for the console."""
    db = sample.db_cpu_per_request
    return (
        f"    {sample.wrk.rps:,.0f} req/s, p50 {sample.wrk.p50_ms:.2f} ms, "
        f"p99 {sample.wrk.p99_ms:.2f} ms, server CPU {sample.server_cpu_per_request:.3f} ms/req"
        + (f", db CPU {db:.3f} ms/req" if db is not None else "")
        + (f", {sample.wrk.errors} ERRORS" if sample.wrk.errors else "")
    )


def _rounds(
    wrk: str, scenarios: Sequence[Scenario], servers: Mapping[str, Server], tag: str,
    args: argparse.Namespace,
) -> dict[str, Summary]:  # fmt: skip
    """Run every scenario once per round, ``ROUNDS`` rounds, so that runs alternate."""
    db_pid = _database_pid(servers)
    probes, database = _probes(servers, db_pid), Probe(db_pid)
    bodies = _body_files(scenarios)
    samples: dict[str, list[Sample]] = {scenario.key: [] for scenario in scenarios}
    for round_number in range(1, ROUNDS + 1):
        for scenario in scenarios:
            print(f"round {round_number}/{ROUNDS}: {scenario.title}", flush=True)
            # A peer's queries can outlive its run: the database is idle before any run,
            # even one of a server that does not use it (it would share the cores).
            settle(database)
            sample = _run_once(
                wrk, scenario, servers[scenario.server], probes[scenario.server],
                bodies.get(scenario.key), f"{tag}-{round_number}", args,
            )  # fmt: skip
            print(_report_line(sample), flush=True)
            samples[scenario.key].append(sample)
    return {key: Summary(tuple(runs)) for key, runs in samples.items()}


def _memory(servers: Mapping[str, Server]) -> Memory:
    """The gateway's and its database's memory now."""
    pid = servers["gateway"].pid
    db_pid = child_with(pid, DB_COMMAND_LINE)
    return Memory(rss_mib(pid), peak_rss_mib(pid), rss_mib(db_pid) if db_pid else None)


def _bench(
    wrk: str, servers: Mapping[str, Server], skipped: Mapping[str, str], args: argparse.Namespace
) -> tuple[Outcome, tuple[FanOut | None, str | None]]:
    """Set up the scenarios on running, seeded servers and measure them, then the fan-out;
    the scenarios of a server in ``skipped`` are unavailable, with its reason."""
    started = datetime.now(UTC)
    gateway = servers["gateway"]
    tag = secrets.token_hex(4)
    fixtures = prepare_fixtures(gateway.url, tag)
    scenarios = build_scenarios(fixtures) + peer_scenarios(fixtures)
    outcome = Outcome(started, args.duration, args.warmup, scenarios)
    for scenario in scenarios:
        if scenario.server in skipped:
            outcome.unavailable[scenario.key] = skipped[scenario.server]
    runnable = _check(outcome, [s for s in scenarios if s.server not in skipped], servers)
    if "gql-users" not in outcome.unavailable:
        outcome.nested = _nested_commands(gateway.url, fixtures.token)
    outcome.results = _rounds(wrk, runnable, servers, tag, args)
    outcome.memory = _memory(servers)
    return outcome, _fanout(servers, fixtures.product_id)


def _fanout(servers: Mapping[str, Server], product_id: str) -> tuple[FanOut | None, str | None]:
    """The fan-out on the gateway (after every wrk run, so its memory figures stand
    alone), or why it could not run."""
    gateway = servers["gateway"]
    print("fan-out: subscribers receive one change", flush=True)
    uri = _database_uri(Path(gateway.env["GATEWAY_DATA_DIR"]))
    try:
        return measure_fanout(gateway.url, gateway.pid, uri, Settings().db_name, product_id), None
    except (OSError, SystemExit) as exc:
        print(f"fan-out not measured: {exc}", flush=True)
        return None, str(exc)


_CHART_CAPTION = "The gateway and its peers on the same seeded database (make bench)"


def _node_versions() -> str:
    """Node.js's version and each peer's pinned packages, for the report."""
    run = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    pinned = []
    for peer in PEERS:
        dependencies = json.loads((peer.directory / "package.json").read_text())["dependencies"]
        pinned += [f"{name} {version}" for name, version in dependencies.items()]
    return f"Node.js {run.stdout.strip() or 'not installed'}; {', '.join(sorted(set(pinned)))}"


def _sections(
    outcome: Outcome, fanout: FanOut | None, fanout_problem: str | None
) -> dict[str, list[str]]:
    """The peers', the workers' and the fan-out's sections of ``results.md``."""
    return {
        "Peers on the same database": [
            "Each peer reads the gateway's seeded embedded database over the MongoDB wire "
            "protocol with the official Node.js driver; its CPU is its node process tree's, "
            "the database's is measured during its own runs. "
            f"{_node_versions()}. Chart: [peers.svg](peers.svg).",
            "",
            *peers_section(outcome.results, outcome.unavailable),
        ],
        "Two workers against one": [
            "`gateway serve --workers 2` (its supervisor and workers charged together) against "
            "`gateway serve --workers 1`, both on the same database (`GATEWAY_MONGODB_URI`) "
            "beside the gateway above; with no Redis, two workers count rate limits in the "
            "database.",
            "",
            *workers_section(outcome.results, outcome.unavailable),
        ],
        "Fan-out": list(fanout_lines(fanout, fanout_problem)),
    }


def _print_targets(targets: Sequence[Target]) -> None:
    """The targets, for the console."""
    print("\nTargets:")
    for target in targets:
        print(f"  {target.mark:<4}  {target.name}: {target.measured} (goal {target.goal})")
    print(f"\nwritten: {RESULTS.relative_to(REPO)}")


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that the servers are stopped on the way out."""
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the whole benchmark and write ``benchmarks/results.md``."""
    args = _parse_args(argv)
    _exit_on_sigterm()
    wrk = ensure_wrk()
    check_uvicorn_extras()
    clock = time.monotonic()
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    gateway_env = _gateway_env(WORK_DIR / "data")
    servers: dict[str, Server] = _servers(gateway_env)
    peers, skipped = _install_peers(WORK_DIR / "logs")
    try:
        for name, server in servers.items():
            server.start(READY_PATHS[name])
        _seed(gateway_env)
        servers.update(_start_on_database(gateway_env, peers, skipped))
        outcome, (fanout, fanout_problem) = _bench(wrk, servers, skipped, args)
    finally:
        for server in reversed(servers.values()):  # the gateway, holding the database, last
            server.stop()
    shutil.rmtree(WORK_DIR / "data", ignore_errors=True)  # uploads make it large; logs stay
    outcome.elapsed_s = time.monotonic() - clock
    targets = evaluate(outcome) + peer_targets(outcome.results) + fanout_targets(fanout)
    report = render(
        outcome,
        describe_machine(wrk_version(wrk), REPO),
        targets,
        _sections(outcome, fanout, fanout_problem),
    )
    previous = RESULTS.read_text() if RESULTS.exists() else ""
    # The load test's section (make load) lives in the same file: keep it.
    RESULTS.write_text(carry_load_section(previous, report))
    CHART.write_text(peers_svg(bars_by_route(outcome.results), _CHART_CAPTION))
    _print_targets(targets)
    print("\n".join(["", *workers_section(outcome.results, outcome.unavailable)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
