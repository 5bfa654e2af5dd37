"""``make load``: the gateway under mixed traffic, then under login storms.

Starts the gateway as ``make bench`` does (production settings, its own uvicorn
process, the embedded database), seeded smaller, and from processes of their own:

1. sends a weighted mix of REST and GraphQL requests for a minute with 32
   workers, while sampling the gateway's RSS every second: no request may
   fail, and memory must stay flat after the warm-up;
2. for ``GATEWAY_HASH_CONCURRENCY`` at its default, 1 and 2, on a fresh gateway
   each time: 16 clients log in back to back while another process measures
   ``GET /api/hello`` at a steady rate, and the gateway's peak RSS is read;
3. on a fresh gateway with the GraphQL rate limit off and introspection on: one
   client (``--attack-clients``) sends the most expensive documents the GraphQL limits admit
   (``load_traffic.ATTACKS``) back to back while another process measures
   ``GET /healthz`` at a steady rate and the gateway's RSS is sampled.

The figures go to ``benchmarks/results.md`` between ``<!-- load:start -->`` and
``<!-- load:end -->``, replacing that section or appended after ``make bench``'s.

Usage: ``python -m benchmarks.load [--duration 60] [--warmup 10] [--storm 15] [--attack 30]
[--attack-clients 1]``
from the repository root.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.client import call
from benchmarks.load_results import (
    AttackOutcome,
    LoadOutcome,
    RssTrace,
    StormOutcome,
    evaluate,
    render,
    with_load_section,
)
from benchmarks.load_traffic import (
    PAGE_SIZE,
    UPLOAD_BYTES,
    Fixtures,
    MixedResult,
    attack,
    hello_probe,
    login_storm,
    mixed_traffic,
)
from benchmarks.procstat import peak_rss_mib, rss_mib
from benchmarks.report import describe_machine
from benchmarks.run import REPO, RESULTS, _exit_on_sigterm, _gateway_env, _print_targets
from benchmarks.scenarios import _expect, _login, _sign_up
from benchmarks.servers import Server, check_uvicorn_extras
from gateway.config import Settings

__all__ = ["main"]

WORK_DIR = REPO / ".bench" / "load"  # data and logs of the latest run
GATEWAY_APP = "benchmarks.gateway_app:app"
USERS, PRODUCTS, CATEGORIES = 200, 2000, 20
SEED = ("--users", str(USERS), "--posts", "3", "--products", str(PRODUCTS),
        "--categories", str(CATEGORIES))  # fmt: skip
SEED_TEXT = (
    f"{USERS} users (3 posts and a profile each), {PRODUCTS:,} products in {CATEGORIES} categories"
)
DEFAULT_HASH_CONCURRENCY = Settings().hash_concurrency
WORKERS = 32
STORM_CLIENTS = 16
PROBE_RATE = 50.0  # GET /api/hello per second while measuring its latency
IDLE_PROBE_S = 3.0  # the same probe before each storm, for comparison
START_DELAY_S = 1.0  # lets every process be ready before the clock starts
RSS_EVERY_S = 1.0
HEALTHZ_RATE = 20.0  # GET /healthz per second during the attack
SETTLE_S = 3.0  # after the attack, before RSS is read again
# The attack's gateway: the attacker is one address (its rate limit would refuse it
# within seconds, which is not what is measured) and introspection is off in production.
ATTACK_SETTINGS = {"GATEWAY_RATE_GRAPHQL_IP": "off", "GATEWAY_GRAPHQL_INTROSPECTION": "true"}
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line: run lengths."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--duration", type=int, default=60, help="seconds of mixed traffic")
    parser.add_argument("--warmup", type=int, default=10, help="seconds before RSS must be flat")
    parser.add_argument("--storm", type=int, default=15, help="seconds of each login storm")
    parser.add_argument("--attack", type=int, default=30, help="seconds of the attack (0: none)")
    parser.add_argument(
        "--attack-clients", type=int, default=1, help="attackers sending back to back"
    )
    args = parser.parse_args(argv)
    if not 0 < args.warmup < args.duration:
        parser.error("--warmup must be shorter than --duration")
    return args


@contextmanager
def _gateway(env: Mapping[str, str], name: str) -> Iterator[Server]:
    """A running gateway, stopped on the way out; its log in ``WORK_DIR/logs/<name>.log``."""
    server = Server(name, GATEWAY_APP, env, WORK_DIR / "logs" / f"{name}.log", WORK_DIR)
    try:
        server.start("/readyz")
        yield server
    finally:
        server.stop()


def _seed(env: Mapping[str, str]) -> None:
    """Seed through the CLI, which attaches to the running gateway's embedded database."""
    print(f"seeding {SEED_TEXT}", flush=True)
    with (WORK_DIR / "logs" / "seed.log").open("wb") as log:
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [sys.executable, "-m", "gateway.cli", "seed", *SEED],
            cwd=WORK_DIR, env=dict(env), stdout=log, stderr=subprocess.STDOUT, check=True,
        )  # fmt: skip


def _get_json(url: str, path: str, headers: Mapping[str, str] | None = None) -> Any:
    """``GET path``, which must answer 200; its JSON."""
    reply = call(url, "GET", path, headers=headers)
    _expect(reply, 200, f"GET {path}")
    return reply.json()


def _fixtures(url: str) -> Fixtures:
    """Sign a user up, collect ids to read, store a file to download."""
    email, password, token = _sign_up(url)
    auth = {"Authorization": f"Bearer {token}"}
    users = _get_json(url, "/api/users?page=1&limit=100", auth)
    products = _get_json(url, "/api/products?page=1&limit=100")["products"]
    download = f"load/{secrets.token_hex(4)}/download.bin"
    headers = {**auth, "Content-Type": "application/octet-stream"}
    stored = call(url, "POST", f"/api/files/{download}", b"\x5a" * UPLOAD_BYTES, headers)
    _expect(stored, 201, "POST /api/files/...")
    return Fixtures(
        url=url, email=email, password=password, token=token,
        user_ids=tuple(user["id"] for user in users), user_pages=USERS // PAGE_SIZE,
        product_ids=tuple(product["id"] for product in products),
        product_pages=PRODUCTS // PAGE_SIZE,
        categories=tuple(sorted({product["category"] for product in products})),
        category_pages=PRODUCTS // CATEGORIES // PAGE_SIZE, download_path=download,
    )  # fmt: skip


def _sample_rss(pid: int, start_at: float, duration_s: float) -> RssTrace:
    """The process's RSS every ``RSS_EVERY_S`` from ``start_at`` for ``duration_s``."""
    points = []
    for n in range(int(duration_s / RSS_EVERY_S) + 1):
        time.sleep(max(start_at + n * RSS_EVERY_S - time.monotonic(), 0.0))
        points.append((n * RSS_EVERY_S, rss_mib(pid)))
    return RssTrace(tuple(points))


def _mixed(
    pool: ProcessPoolExecutor, server: Server, fixtures: Fixtures, args: argparse.Namespace
) -> tuple[MixedResult, RssTrace]:
    """The mixed traffic from a process of its own, and the gateway's RSS meanwhile."""
    print(f"mixed traffic: {args.duration} s, {WORKERS} workers", flush=True)
    start_at = time.monotonic() + START_DELAY_S
    future = pool.submit(mixed_traffic, fixtures, WORKERS, start_at, args.duration)
    trace = _sample_rss(server.pid, start_at, args.duration)
    result = future.result()
    print(
        f"    {result.requests:,} requests ({result.rps:,.0f} req/s), {result.errors:,} errors; "
        f"RSS {trace.at(args.warmup):.0f} MiB at {args.warmup} s, {trace.final:.0f} at the end",
        flush=True,
    )
    return result, trace


def _storm(
    pool: ProcessPoolExecutor, server: Server, fixtures: Fixtures, concurrency: int,
    args: argparse.Namespace,
) -> StormOutcome:  # fmt: skip
    """A hello probe alone, then the login storm with the probe alongside, on ``server``."""
    # One login first: checks the credentials and warms the route up.
    _expect(_login(server.url, fixtures.email, fixtures.password), 200, "POST /api/auth/login")
    idle = pool.submit(
        hello_probe, server.url, PROBE_RATE, time.monotonic() + START_DELAY_S, IDLE_PROBE_S
    ).result()
    rss_before = rss_mib(server.pid)
    start_at = time.monotonic() + START_DELAY_S
    storm_fixtures = replace(fixtures, url=server.url)
    logins = pool.submit(login_storm, storm_fixtures, STORM_CLIENTS, start_at, args.storm)
    hello = pool.submit(hello_probe, server.url, PROBE_RATE, start_at, args.storm)
    outcome = StormOutcome(
        concurrency=concurrency, is_default=concurrency == DEFAULT_HASH_CONCURRENCY,
        idle_hello=idle, hello=hello.result(), logins=logins.result(),
        rss_before_mib=rss_before, rss_peak_mib=peak_rss_mib(server.pid),
        rss_after_mib=rss_mib(server.pid),
    )  # fmt: skip
    print(
        f"    {outcome.logins.per_second:.1f} logins/s; hello p99 "
        f"{outcome.hello.latency.p99_ms:.1f} ms (before: {idle.latency.p99_ms:.1f} ms); "
        f"RSS {rss_before:.0f} MiB before, peak {outcome.rss_peak_mib:.0f} MiB",
        flush=True,
    )
    return outcome


def _storms(
    pool: ProcessPoolExecutor, env: Mapping[str, str], fixtures: Fixtures,
    args: argparse.Namespace,
) -> list[StormOutcome]:  # fmt: skip
    """A login storm per hash concurrency (the default, 1 and 2), each on a fresh gateway."""
    outcomes = []
    for concurrency in sorted({DEFAULT_HASH_CONCURRENCY, 1, 2}):
        print(f"login storm: GATEWAY_HASH_CONCURRENCY={concurrency}", flush=True)
        storm_env = {**env, "GATEWAY_HASH_CONCURRENCY": str(concurrency)}
        with _gateway(storm_env, f"gateway-hash-{concurrency}") as server:
            outcomes.append(_storm(pool, server, fixtures, concurrency, args))
    return outcomes


def _attack(
    pool: ProcessPoolExecutor, env: Mapping[str, str], fixtures: Fixtures,
    args: argparse.Namespace,
) -> AttackOutcome:  # fmt: skip
    """The attack on a fresh gateway, ``GET /healthz`` probed meanwhile, RSS sampled."""
    print(f"attack: {args.attack} s, {args.attack_clients} clients; {ATTACK_SETTINGS}", flush=True)
    with _gateway({**env, **ATTACK_SETTINGS}, "gateway-attack") as server:
        idle = pool.submit(
            hello_probe, server.url, HEALTHZ_RATE, time.monotonic() + START_DELAY_S,
            IDLE_PROBE_S, "/healthz",
        ).result()  # fmt: skip
        start_at = time.monotonic() + START_DELAY_S
        attacker = pool.submit(
            attack, replace(fixtures, url=server.url), args.attack_clients, start_at, args.attack
        )
        probe = pool.submit(
            hello_probe, server.url, HEALTHZ_RATE, start_at, args.attack, "/healthz"
        )
        trace = _sample_rss(server.pid, start_at, args.attack)
        result, probed = attacker.result(), probe.result()
        peak = peak_rss_mib(server.pid)
        time.sleep(SETTLE_S)
        outcome = AttackOutcome(
            attack=result, idle_probe=idle, probe=probed, rss=trace, rss_peak_mib=peak,
            rss_after_mib=rss_mib(server.pid),
            settings=tuple(f"{name}={value}" for name, value in ATTACK_SETTINGS.items()),
        )  # fmt: skip
    print(
        f"    {result.requests:,} requests ({result.rps:,.1f} req/s): "
        f"{result.count(200, 299):,} 2xx, {result.count(400, 499):,} 4xx; healthz p50/p99/max "
        f"{probed.latency.p50_ms:.1f}/{probed.latency.p99_ms:.1f}/{probed.latency.max_ms:.1f} ms; "
        f"RSS max {max(mib for _, mib in trace.points):.0f} MiB, peak {peak:.0f}, "
        f"after {outcome.rss_after_mib:.0f}",
        flush=True,
    )
    return outcome


def _busy_s() -> tuple[float, float]:
    """CPU seconds used so far by the whole machine, and by this process and its reaped children.

    A gateway waits for its database process, this process for the gateways and
    the client processes: once all are stopped, the second figure covers the test.
    """
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    own = os.times()
    return (
        (user + nice + system + irq + softirq) / _TICKS_PER_S,
        own.user + own.system + own.children_user + own.children_system,
    )


def _load(args: argparse.Namespace) -> LoadOutcome:
    """Seed a gateway, run the mixed traffic on it, then the storms."""
    started, clock, (machine_before, own_before) = datetime.now(UTC), time.monotonic(), _busy_s()
    env = _gateway_env(WORK_DIR / "data")
    # Forked workers start at once, with everything imported; two: the storm and its probe.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        with _gateway(env, "gateway") as server:
            _seed(env)
            fixtures = _fixtures(server.url)
            mixed, rss = _mixed(pool, server, fixtures, args)
        storms = _storms(pool, env, fixtures, args)
        attacked = _attack(pool, env, fixtures, args) if args.attack > 0 else None
    machine_after, own_after = _busy_s()
    return LoadOutcome(
        started=started, elapsed_s=time.monotonic() - clock, seed=SEED_TEXT,
        warmup_s=args.warmup, storm_s=args.storm, mixed=mixed, rss=rss, storms=storms,
        other_cpu_s=max((machine_after - machine_before) - (own_after - own_before), 0.0),
        attack=attacked,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load test and write its section of ``benchmarks/results.md``."""
    args = _parse_args(argv)
    _exit_on_sigterm()
    check_uvicorn_extras()
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    (WORK_DIR / "logs").mkdir(parents=True)
    outcome = _load(args)
    shutil.rmtree(WORK_DIR / "data", ignore_errors=True)  # uploads make it large; logs stay
    targets = evaluate(outcome)
    machine = describe_machine(f"httpx {httpx.__version__} (asyncio), processes of their own", REPO)
    old = RESULTS.read_text() if RESULTS.exists() else ""
    RESULTS.write_text(with_load_section(old, render(outcome, machine, targets)))
    _print_targets(targets)
    print(f"other processes used {outcome.other_share(machine.cores):.0%} of the CPU meanwhile")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
