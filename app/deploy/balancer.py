"""A small round-robin reverse proxy that fronts local replicas with one base URL, as a Service would.

Run as its own process (`python -m app.deploy.balancer --port P --backend URL --backend URL`), so a local
deployment keeps serving after the `preflight` command that started it exits. Responses are streamed
through chunk by chunk, so SSE completions keep their timing. A backend that refuses the connection is
skipped for the next one; `/health` is 200 while at least one backend's `/health` is. `/metrics` is not
aggregated here: the scraper reads each replica (deployments.runtime["endpoints"]).

Imports only aiohttp and the standard library: it starts fast and never touches the database.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import signal
from collections.abc import Sequence

import aiohttp
from aiohttp import web

log = logging.getLogger("preflight.balancer")

# Hop-by-hop headers (RFC 9110 7.6.1) and those aiohttp recomputes.
_SKIP_HEADERS = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


class Balancer:
    def __init__(self, backends: Sequence[str]) -> None:
        if not backends:
            raise ValueError("the balancer needs at least one backend")
        self.backends = [b.rstrip("/") for b in backends]
        self._next = itertools.cycle(range(len(self.backends)))
        self._session: aiohttp.ClientSession | None = None

    async def start(self, _: web.Application) -> None:
        # No total timeout: completions may stream for minutes; connecting must be quick.
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5), auto_decompress=False
        )

    async def stop(self, _: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def health(self, _: web.Request) -> web.Response:
        assert self._session is not None
        for backend in self.backends:
            try:
                async with self._session.get(
                    f"{backend}/health", timeout=aiohttp.ClientTimeout(total=2)
                ) as resp:
                    if resp.status == 200:
                        return web.Response(status=200)
            except (aiohttp.ClientError, TimeoutError):
                continue
        return web.Response(status=503, text="no healthy backend")

    async def proxy(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIP_HEADERS}
        last_error = ""
        for _ in range(len(self.backends)):
            backend = self.backends[next(self._next)]
            url = f"{backend}{request.rel_url}"
            try:
                upstream = await self._session.request(request.method, url, data=body, headers=headers)
            except aiohttp.ClientConnectionError as e:
                # Nothing was sent to the backend yet: safe to try the next one.
                last_error = f"{backend}: {e}"
                log.warning("backend %s unreachable: %s", backend, e)
                continue
            try:
                response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
                for key, value in upstream.headers.items():
                    if key.lower() not in _SKIP_HEADERS:
                        response.headers.add(key, value)
                await response.prepare(request)
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
            finally:
                upstream.release()
        return web.json_response(
            {
                "error": {
                    "message": f"no backend reachable: {last_error}",
                    "type": "ServiceUnavailable",
                    "param": None,
                    "code": 503,
                }
            },
            status=503,
        )


def build_app(backends: Sequence[str]) -> web.Application:
    balancer = Balancer(backends)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.on_startup.append(balancer.start)
    app.on_cleanup.append(balancer.stop)
    app.router.add_get("/health", balancer.health)
    app.router.add_route("*", "/{tail:.*}", balancer.proxy)
    return app


async def serve(host: str, port: int, backends: Sequence[str]) -> None:
    runner = web.AppRunner(build_app(backends), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("balancing %s on http://%s:%d", ", ".join(backends), host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Round-robin proxy in front of local replicas.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", action="append", required=True, help="replica base URL (repeat)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(args.host, args.port, args.backend))


if __name__ == "__main__":
    main()
