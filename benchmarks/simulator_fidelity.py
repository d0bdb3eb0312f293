"""Fidelity benchmark of the vLLM simulator.

The simulator runs in its own process (`python -m simulator --profile ...`); a real streaming HTTP client
(aiohttp, parsing SSE) runs in another process at rising concurrency. For each level it compares the
measured TTFT, ITL and throughput with what the profile implies, and reports both processes' CPU use.

Then it reports:
- the knee: the highest concurrency at which the simulator itself holds mean ITL within 5% of the profile
  (the profile is flat, so any growth is simulator overhead, not the modelled GPU);
- the over-max_num_seqs case: a burst larger than max_num_seqs, with vllm:num_requests_waiting scraped during
  the run and the TTFT of the queued requests compared with the profile's prediction for that queue.

Columns: ITL ms = mean over requests of (last token - first token) / (tokens - 1) seen by the client;
ITL p99 = 99th percentile of that per-request mean; srv ITL = the simulator's own
vllm:inter_token_latency_seconds mean over the level; TTFT includes TCP connect and request parsing,
the profile's `pred` only the prefill step; tok/s over the level's wall time.

Usage:  .venv/bin/python benchmarks/simulator_fidelity.py [--levels 1,16,64,128,256,384] [--max-tokens 150]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROMPT_TOKENS = 32


def _profile(itl_ms: float, max_num_seqs: int) -> dict[str, Any]:
    # Flat decode cost: the profile implies the same ITL at every batch size, so deviations are the
    # simulator's own. Prefill is made cheap so that ramp-up steps barely move the mean ITL.
    return {
        "schema_version": 1,
        "model": "bench-model",
        "prefill": {"overhead_ms": 1.0, "per_token_ms": 0.001},
        "decode": {"base_ms": itl_ms, "per_seq_ms": 0.0, "per_context_token_ms": 0.0, "table": None},
        "max_num_seqs": max_num_seqs,
        "max_num_batched_tokens": 65536,
        "kv_cache": {"tokens": 4_000_000, "block_size": 16},
        "max_model_len": 8192,
        "jitter": {"cv": 0.0, "seed": 0},
        "source": {"kind": "benchmark", "detail": "flat profile for simulator_fidelity.py"},
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, profile: dict[str, Any]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        fd, self._path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(profile, f)
        cmd = [
            sys.executable,
            "-m",
            "simulator",
            "--profile",
            self._path,
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.DEVNULL)
        import psutil

        self.ps = psutil.Process(self.proc.pid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("simulator did not become healthy in 30 s")

    def cpu_s(self) -> float:
        t = self.ps.cpu_times()
        return float(t.user + t.system)

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name + "{"):
                    return float(line.rsplit(" ", 1)[1])
        return float("nan")

    def itl_totals(self) -> tuple[float, float]:
        return (
            self.metric("vllm:inter_token_latency_seconds_sum"),
            self.metric("vllm:inter_token_latency_seconds_count"),
        )

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        os.unlink(self._path)


# ----- client process -----------------------------------------------------------------------------


async def _one(session: Any, url: str, max_tokens: int) -> dict[str, Any]:
    payload = {
        "model": "bench-model",
        "prompt": [1] * PROMPT_TOKENS,
        "max_tokens": max_tokens,
        "ignore_eos": True,
        "stream": True,
    }
    t0 = time.perf_counter()
    first = last = None
    n = 0
    async with session.post(url + "/v1/completions", json=payload) as resp:
        resp.raise_for_status()
        # Count token events per received chunk (every event ends with ']}\n\n'); events that arrive in
        # one chunk share its arrival time. Cheaper than splitting lines, so the client keeps up.
        tail = b""
        async for chunk in resp.content.iter_any():
            now = time.perf_counter()
            data = tail + chunk
            k = data.count(b"]}\n\n")
            tail = data[-3:]  # shorter than the terminator, so none is counted twice
            if k:
                n += k
                if first is None:
                    first = now
                last = now
    assert first is not None and last is not None
    return {
        "start": t0,
        "ttft": first - t0,
        "itl": (last - first) / (n - 1) if n > 1 else 0.0,
        "tokens": n,
        "end": last,
    }


async def _client(url: str, concurrency: int, max_tokens: int) -> dict[str, Any]:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        t0 = time.perf_counter()
        results = await asyncio.gather(*(_one(session, url, max_tokens) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return {"wall": wall, "requests": results}


def client_main(url: str, concurrency: int, max_tokens: int) -> None:
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    out = asyncio.run(_client(url, concurrency, max_tokens))
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    json.dump(out, sys.stdout)


def run_client(url: str, concurrency: int, max_tokens: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--client",
        url,
        "--concurrency",
        str(concurrency),
        "--max-tokens",
        str(max_tokens),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, timeout=900)
    return dict(json.loads(done.stdout))


# ----- orchestration -------------------------------------------------------------------------------


def _pct(v: float, ref: float) -> float:
    return (v / ref - 1.0) * 100.0


def sweep(levels: list[int], itl_ms: float, max_tokens: int) -> int:
    prof = _profile(itl_ms, max_num_seqs=max(levels))
    server = Server(prof)
    knee = 0
    try:
        print(
            f"flat profile: ITL {itl_ms} ms at every batch size; {max_tokens} tokens per request, "
            f"{PROMPT_TOKENS}-token prompts; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
        )
        print(
            f"{'conc':>5} {'ITL ms':>8} {'vs prof':>8} {'ITL p99':>8} {'srv ITL':>8} "
            f"{'TTFT ms':>8} {'pred':>6} "
            f"{'tok/s':>8} {'pred':>8} {'sim CPU':>8} {'cli CPU':>8}"
        )
        all_ok = True
        for c in levels:
            cpu0, w0 = server.cpu_s(), time.monotonic()
            s0, n0 = server.itl_totals()
            res = run_client(server.url, c, max_tokens)
            sim_cpu = (server.cpu_s() - cpu0) / (time.monotonic() - w0) * 100
            s1, n1 = server.itl_totals()
            server_itl = (s1 - s0) / (n1 - n0) if n1 > n0 else float("nan")
            reqs = res["requests"]
            itl = statistics.fmean(r["itl"] for r in reqs)
            itls = sorted(r["itl"] for r in reqs)
            itl_p99 = itls[min(len(itls) - 1, int(0.99 * len(itls)))]
            ttft = statistics.fmean(r["ttft"] for r in reqs)
            gen_wall = max(r["end"] for r in reqs) - min(r["start"] for r in reqs)
            tput = sum(r["tokens"] for r in reqs) / gen_wall
            # What the profile implies for c simultaneous requests: one prefill step, then decode steps.
            pred_ttft = 1.0 + 0.001 * c * PROMPT_TOKENS
            pred_tput = c * max_tokens / ((pred_ttft + (max_tokens - 1) * itl_ms) / 1000)
            cli_cpu = res["cpu_s"] / res["wall"] * 100
            dev = _pct(itl * 1000, itl_ms)
            ok = abs(dev) <= 5.0
            all_ok = all_ok and ok
            if all_ok:
                knee = c
            print(
                f"{c:>5} {itl * 1000:>8.2f} {dev:>+7.1f}% {itl_p99 * 1000:>8.2f} {server_itl * 1000:>8.2f} "
                f"{ttft * 1000:>8.1f} "
                f"{pred_ttft:>6.1f} {tput:>8.0f} {pred_tput:>8.0f} {sim_cpu:>7.0f}% {cli_cpu:>7.0f}%"
            )
    finally:
        server.close()
    print(f"knee (highest concurrency with mean ITL within 5% at it and every lower level): {knee}")
    return knee


def queue_case(itl_ms: float, max_num_seqs: int, burst: int, max_tokens: int) -> None:
    server = Server(_profile(itl_ms, max_num_seqs=max_num_seqs))
    waiting_seen: list[float] = []
    stop = threading.Event()

    def scrape() -> None:
        while not stop.is_set():
            waiting_seen.append(server.metric("vllm:num_requests_waiting"))
            time.sleep(0.1)

    scraper = threading.Thread(target=scrape, daemon=True)
    try:
        scraper.start()
        res = run_client(server.url, burst, max_tokens)
    finally:
        stop.set()
        scraper.join()
        server.close()
    ttfts = sorted(r["ttft"] * 1000 for r in res["requests"])
    prefill = lambda n: 1.0 + 0.001 * n * PROMPT_TOKENS  # noqa: E731
    first_batch = prefill(max_num_seqs) + (max_tokens - 1) * itl_ms
    # The queued requests are admitted in the step after the first batch finishes, then prefill together.
    pred_queued = first_batch + prefill(burst - max_num_seqs)
    queued = ttfts[max_num_seqs:]
    meas = statistics.fmean(queued)
    print(f"over max_num_seqs: burst of {burst} with max_num_seqs {max_num_seqs}, {max_tokens} tokens each")
    print(f"  max vllm:num_requests_waiting seen: {max(waiting_seen):.0f} (expected {burst - max_num_seqs})")
    print(
        f"  TTFT of running requests: {statistics.fmean(ttfts[:max_num_seqs]):.1f} ms "
        f"(profile: {prefill(max_num_seqs):.1f} ms)"
    )
    print(
        f"  TTFT of queued requests:  {meas:.1f} ms "
        f"(profile: {pred_queued:.1f} ms, {_pct(meas, pred_queued):+.1f}%)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--client", help=argparse.SUPPRESS)
    p.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--levels", default="1,16,64,128,256,384")
    p.add_argument("--itl-ms", type=float, default=20.0)
    p.add_argument("--max-tokens", type=int, default=150)
    p.add_argument("--queue-max-num-seqs", type=int, default=32)
    p.add_argument("--queue-burst", type=int, default=64)
    p.add_argument("--skip-queue", action="store_true")
    args = p.parse_args()
    if args.client:
        client_main(args.client, args.concurrency, args.max_tokens)
        return
    sweep([int(x) for x in args.levels.split(",")], args.itl_ms, args.max_tokens)
    if not args.skip_queue:
        queue_case(args.itl_ms, args.queue_max_num_seqs, args.queue_burst, 100)


if __name__ == "__main__":
    main()
