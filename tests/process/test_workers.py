"""``gateway serve --workers 2``: two processes on one port and one embedded database, one
set of metrics, shared rate limits, and one signal stops them all."""

from __future__ import annotations

import contextlib
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
from pymongo import MongoClient

from tests.conftest import ADMIN_PASSWORD
from tests.live import gateway_env, live_gateway, run_cli


def _worker_of(response: httpx.Response) -> str:
    # Request ids start with a prefix drawn once per process (RequestContext).
    return response.headers["x-request-id"][:16]


def _both_workers_answer(base_url: str) -> None:
    """Wait until both workers answer (the second may still be starting when the first
    does; new connections are spread over those that accept)."""
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    while len(seen) < 2:
        assert time.monotonic() < deadline, "the second worker never answered"
        with ThreadPoolExecutor(4) as pool:
            seen |= {
                _worker_of(a)
                for a in pool.map(lambda _: httpx.get(f"{base_url}/healthz"), range(8))
            }


def _hello_count(base_url: str) -> float:
    for line in httpx.get(f"{base_url}/metrics").text.splitlines():
        if line.startswith('gateway_http_requests_total{method="GET",route="/api/hello"'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_two_workers_share_a_port_metrics_and_limits_and_stop_together(tmp_path):
    env = gateway_env(tmp_path / "data", rate_login_email="3/300")
    with live_gateway(env, args=["--workers", "2"]) as live:
        supervisor = psutil.Process(live.pid)
        processes = [supervisor, *supervisor.children(recursive=True)]
        # Both workers answer: new connections are spread over them.
        _both_workers_answer(live.base_url)
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: httpx.get(f"{live.base_url}/api/hello"), range(40)))
        assert {a.status_code for a in answers} == {200}
        # /metrics counts the requests of both, whichever worker is asked.
        deadline = time.monotonic() + 10
        while _hello_count(live.base_url) < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _hello_count(live.base_url) == 40
        text = httpx.get(f"{live.base_url}/metrics").text
        assert text.count("process_start_time_seconds{pid=") == 2
        # A login limit holds across workers: 3 attempts, then refused, whoever answers.
        statuses, workers = [], set()
        for _ in range(8):
            response = httpx.post(
                f"{live.base_url}/api/auth/login",
                json={"email": "limited@example.com", "password": "wrong-pass"},
            )
            statuses.append(response.status_code)
            workers.add(_worker_of(response))
        assert statuses == [401] * 3 + [429] * 5
        assert len(workers) == 2
        # The supervisor restarts the embedded database when it dies.
        [database] = [p for p in processes if "nx_27017" in " ".join(p.cmdline())]
        database.kill()
        database.wait(5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{live.base_url}/api/products", timeout=5).status_code == 200:
                    break
            time.sleep(0.3)
        else:
            raise AssertionError("the embedded database was not restarted")
        processes = [supervisor, *supervisor.children(recursive=True)]
        restarted = [p for p in processes if "nx_27017" in " ".join(p.cmdline())]
        assert [p.pid for p in restarted] != [database.pid]
        assert len(restarted) == 1
        # SIGTERM to the supervisor stops the workers and the embedded database.
        live.process.send_signal(signal.SIGTERM)
        live.process.wait(timeout=30)
        _, alive = psutil.wait_procs(processes, timeout=15)
        assert alive == []


def test_a_write_through_one_worker_is_in_the_next_total_from_any_worker(tmp_path, mongo_uri):
    """Each worker keeps totals; their change feeds poll only every 5 s here, so only
    the shared write counter (gateway.shared_generation) can tell them of a write."""
    db_name = f"workers_{uuid.uuid4().hex[:12]}"
    env = gateway_env(
        tmp_path / "data", mongodb_uri=mongo_uri, db_name=db_name, live_poll_interval="5"
    )
    email = "workers-admin@example.com"
    made = run_cli(
        ["create-admin", "--email", email, "--password", ADMIN_PASSWORD, "--name", "Admin"], env
    )
    assert made.returncode == 0, made.stderr
    with live_gateway(env, args=["--workers", "2"]) as live:
        login = httpx.post(
            f"{live.base_url}/api/auth/login", json={"email": email, "password": ADMIN_PASSWORD}
        )
        admin = {"Authorization": f"Bearer {login.json()['token']}"}

        def total() -> tuple[int, str]:
            # A new connection each time: the kernel spreads them over the workers.
            page = httpx.get(f"{live.base_url}/api/products?limit=1")
            assert page.status_code == 200, page.text
            return page.json()["pagination"]["total"], _worker_of(page)

        _both_workers_answer(live.base_url)
        for _ in range(20):
            assert total()[0] == 0  # both workers, most likely, now keep the total 0
        readers = set()
        for created in range(1, 31):
            product = {"name": f"Lamp {created}", "category": "home", "price": 5}
            answer = httpx.post(f"{live.base_url}/api/products", json=product, headers=admin)
            assert answer.status_code == 201, answer.text
            for _ in range(3):
                seen, worker = total()
                readers.add(worker)
                assert seen == created
        assert len(readers) == 2
    with MongoClient(mongo_uri) as client:
        client.drop_database(db_name)
