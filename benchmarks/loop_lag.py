"""How long an event-loop request of a few socket round trips takes while pure-Python threads run, by GIL
switch interval: the mechanism behind `/api/health` tails in `preflight up` while planning runs.

A local TCP echo server and client share one event loop; one "request" is ``--trips`` sequential round trips
(a health check is request read, query, answer). Meanwhile ``--threads`` threads run pure-Python arithmetic,
standing in for the planner (pure Python, holds the GIL). Printed per (threads, interval): requests done (each
followed by a 10 ms pause, so an idle loop does about 90 a second) and latency p50/p99/max.

    python benchmarks/loop_lag.py [--seconds 6] [--threads 2] [--trips 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time


def spin(stop: threading.Event) -> None:
    x = 0
    while not stop.is_set():
        for i in range(10_000):
            x = (x * 31 + i) % 1_000_003


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, done: asyncio.Event) -> None:
    while data := await reader.read(64):
        writer.write(data)
        await writer.drain()
    writer.close()
    done.set()


async def measure(seconds: float, trips: int) -> list[float]:
    done = asyncio.Event()
    server = await asyncio.start_server(lambda r, w: echo(r, w, done), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    out: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        for _ in range(trips):
            writer.write(b"ping")
            await reader.readexactly(4)
        out.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)
    writer.close()
    await done.wait()  # the server side saw the close and ended
    server.close()
    await server.wait_closed()
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--trips", type=int, default=4)
    args = parser.parse_args()
    for threads in (0, args.threads):
        for interval_ms in (5.0, 1.0):
            sys.setswitchinterval(interval_ms / 1000)
            stop = threading.Event()
            workers = [threading.Thread(target=spin, args=(stop,)) for _ in range(threads)]
            for w in workers:
                w.start()
            lat = asyncio.run(measure(args.seconds, args.trips))
            stop.set()
            for w in workers:
                w.join()
            print(
                f"threads {threads}  switch interval {interval_ms:g} ms: {len(lat)} requests of {args.trips} "
                f"round trips, p50 {pct(lat, 50) * 1000:.1f} ms, p99 {pct(lat, 99) * 1000:.1f} ms, "
                f"max {max(lat) * 1000:.1f} ms"
            )


if __name__ == "__main__":
    main()
