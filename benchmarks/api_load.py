"""50 concurrent API users against a real `preflight up` (embedded database), and what they get.

Each simulated person signs in with their own API token and repeats: pick an action, do it, wait 5 s (about
10 actions/s offered by 50 people). The mix: 40% recommend (a request in words; a few phrasings and sizes),
30% scenarios (save an option of their last recommendation, or compare their two latest scenarios), 30%
observation of their own deployment (a live simulator the server's observer scrapes). Meanwhile a separate
probe reads `/api/health` twice a second.

Printed: requests per action, status counts, 5xx count, client timeouts, the share of 429 answers (and
whether each carried Retry-After), recommend p50/p95/max, /api/health p50/p99/max, and each action's p95.
Targets (issue 14): no 5xx, no timeouts, 429 under 1%, recommend p95 < 2 s, health p99 < 200 ms.

    python benchmarks/api_load.py [--users 50] [--duration 120] [--think 5]

It creates a fresh data directory (embedded Postgres), the users and their deployments, starts one simulator
and `preflight up`, runs the load, stops everything it started and removes the directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TEXTS = [
    "a chatbot for {n} concurrent users, low latency is critical",
    "internal assistant for {n} employees, cheapest option that meets the SLO",
    "code completion for {n} developers, TTFT under 300 ms",
    "summarise support tickets for {n} agents, budget $20,000 a month",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Tally:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    timeouts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    missing_retry_after: int = 0
    server_errors: list[str] = field(default_factory=list)

    def record(self, action: str, response: httpx.Response, seconds: float) -> None:
        self.statuses[(action, response.status_code)] += 1
        self.latencies.setdefault(action, []).append(seconds)
        if response.status_code == 429 and "retry-after" not in response.headers:
            self.missing_retry_after += 1
        if response.status_code >= 500 and len(self.server_errors) < 10:
            self.server_errors.append(f"{action} {response.status_code}: {response.text[:200]}")


async def setup(data_dir: Path, users: int, sim_url: str) -> list[tuple[str, str]]:
    """Users with one token each and one ready deployment each (pointing at the simulator)."""
    os.environ["PREFLIGHT_DATA_DIR"] = str(data_dir)
    os.environ.pop("PREFLIGHT_DATABASE_URL", None)
    from app.auth import create_user
    from db import models as m
    from db.session import dispose_engine, session_scope

    people: list[tuple[str, str]] = []
    async with session_scope() as s:
        for i in range(users):
            user, token = await create_user(f"load{i:03d}", "load-test password", session=s)
            dep_id = uuid.uuid4()
            s.add(
                m.Deployment(
                    id=dep_id,
                    name=f"load{i:03d}",
                    owner_id=user.id,
                    state="ready",
                    target="local",
                    namespace="default",
                    endpoint=sim_url,
                    runtime={"endpoints": [sim_url]},
                    plan={},
                    manifests=[],
                    revisions=[],
                    specification={},
                    prediction={},
                )
            )
            people.append((token, str(dep_id)))
    await dispose_engine()
    return people


async def person(
    client: httpx.AsyncClient, token: str, dep_id: str, tally: Tally, stop_at: float, think: float, seed: int
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    recommendation: str | None = None
    scenarios: list[str] = []
    await asyncio.sleep(rng.uniform(0, think))  # people do not all start in the same second
    while time.monotonic() < stop_at:
        roll = rng.random()
        if roll < 0.4 or (roll < 0.7 and recommendation is None):
            action = "recommend"
            text = rng.choice(TEXTS).format(n=rng.choice([20, 100, 500, 2000, 10000]))
            call = client.post("/api/recommendations", json={"text": text, "top": 3}, headers=headers)
        elif roll < 0.7:
            if len(scenarios) >= 2 and rng.random() < 0.5:
                action = "scenario_compare"
                call = client.post("/api/scenarios/compare", json={"names": scenarios[-2:]}, headers=headers)
            else:
                action = "scenario_save"
                name = f"s{len(scenarios)}-{rng.randrange(10**6)}"
                body = {"name": name, "recommendation_id": recommendation, "option_rank": 1}
                call = client.post("/api/scenarios", json=body, headers=headers)
        else:
            action = "observation"
            call = client.get(
                f"/api/deployments/{dep_id}/observation",
                params={"window_s": 600, "step_s": 10},
                headers=headers,
            )
        started = time.perf_counter()
        try:
            response = await call
        except httpx.TimeoutException:
            tally.timeouts[action] += 1
        except httpx.HTTPError as e:
            tally.errors[f"{action}: {type(e).__name__}"] += 1
        else:
            tally.record(action, response, time.perf_counter() - started)
            if action == "recommend" and response.status_code == 200:
                recommendation = response.json().get("recommendation_id") or recommendation
            elif action == "scenario_save" and response.status_code == 201:
                scenarios.append(response.json()["name"])
        await asyncio.sleep(think)


async def health_probe(client: httpx.AsyncClient, tally: Tally, stop_at: float) -> None:
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            response = await client.get("/api/health")
        except httpx.TimeoutException:
            tally.timeouts["health"] += 1
        except httpx.HTTPError as e:
            tally.errors[f"health: {type(e).__name__}"] += 1
        else:
            tally.record("health", response, time.perf_counter() - started)
        await asyncio.sleep(0.5)


async def drive(url: str, people: list[tuple[str, str]], duration: float, think: float) -> Tally:
    tally = Tally()
    stop_at = time.monotonic() + duration
    limits = httpx.Limits(max_connections=len(people) + 5)
    async with (
        httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client,
        httpx.AsyncClient(base_url=url, timeout=30) as probe,
    ):
        await asyncio.gather(
            health_probe(probe, tally, stop_at),
            *(person(client, tok, dep, tally, stop_at, think, i) for i, (tok, dep) in enumerate(people)),
        )
    return tally


def report(tally: Tally, duration: float) -> None:
    total = sum(tally.statuses.values())
    load = sum(n for (a, _), n in tally.statuses.items() if a != "health")
    by_status = Counter()
    for (_, status), n in tally.statuses.items():
        by_status[status] += n
    print(f"requests: {total} ({load} from people, {load / duration:.1f}/s; health probes {total - load})")
    for action in sorted({a for a, _ in tally.statuses}):
        codes = {s: n for (a, s), n in sorted(tally.statuses.items()) if a == action}
        lat = tally.latencies.get(action, [])
        print(
            f"  {action:<17} n={sum(codes.values()):>5}  statuses {codes}  "
            f"p50 {pct(lat, 50) * 1000:7.0f} ms  p95 {pct(lat, 95) * 1000:7.0f} ms  "
            f"max {max(lat) * 1000:7.0f} ms"
        )
    five = sum(n for s, n in by_status.items() if s >= 500)
    throttled = by_status.get(429, 0)
    print(f"5xx: {five}")
    print(f"timeouts (30 s): {sum(tally.timeouts.values())} {dict(tally.timeouts) or ''}")
    print(f"connection errors: {sum(tally.errors.values())} {dict(tally.errors) or ''}")
    print(
        f"429 share: {throttled / max(total, 1):.2%} ({throttled} of {total}; "
        f"{tally.missing_retry_after} without Retry-After)"
    )
    rec = tally.latencies.get("recommend", [])
    print(f"recommend p50 {pct(rec, 50):.2f} s, p95 {pct(rec, 95):.2f} s, max {max(rec, default=0):.2f} s")
    health = tally.latencies.get("health", [])
    print(
        f"/api/health p50 {pct(health, 50) * 1000:.0f} ms, p99 {pct(health, 99) * 1000:.0f} ms, "
        f"max {max(health, default=0) * 1000:.0f} ms ({len(health)} probes)"
    )
    for line in tally.server_errors:
        print("  5xx:", line)


def warm_up(url: str, first: tuple[str, str]) -> None:
    token, dep_id = first
    headers = {"Authorization": f"Bearer {token}"}
    httpx.post(
        f"{url}/api/recommendations", json={"text": TEXTS[0].format(n=100)}, headers=headers, timeout=120
    )
    httpx.get(f"{url}/api/deployments/{dep_id}/observation", headers=headers, timeout=60)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} not ready in {timeout_s:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=5.0, help="seconds each person waits between actions")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="pfload-", dir="/tmp"))
    env = {**os.environ, "PREFLIGHT_DATA_DIR": str(data_dir), "PREFLIGHT_LOG_LEVEL": "WARNING"}
    env.pop("PREFLIGHT_DATABASE_URL", None)
    sim_port, port = free_port(), free_port()
    sim_url, url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                [PY, "-m", "simulator", "--port", str(sim_port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
            )
        )
        wait_ready(sim_url + "/health", procs[0], 60)
        started = time.perf_counter()
        people = asyncio.run(setup(data_dir, args.users, sim_url))
        print(
            f"setup: {len(people)} people, each with a token and a deployment, "
            f"in {time.perf_counter() - started:.0f} s"
        )
        procs.append(
            subprocess.Popen(
                [PY, "-m", "app.cli", "up", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(data_dir / "server.log").open("wb"),
            )
        )
        wait_ready(url + "/api/health", procs[1], 180)
        # One request of each kind first, not counted: the first recommend loads the catalog and calibration.
        warm_up(url, people[0])
        print(f"load: {args.users} people, {args.duration:.0f} s, {args.think:.0f} s between actions")
        tally = asyncio.run(drive(url, people, args.duration, args.think))
        report(tally, args.duration)
    finally:
        if "tally" not in locals():
            for log in sorted(data_dir.glob("*.log")):
                print(f"--- {log.name}:\n{log.read_text(errors='replace')[-3000:]}")
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
        subprocess.run(
            [PY, "-m", "app.cli", "db", "stop"], cwd=ROOT, env=env, capture_output=True, check=False
        )
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
