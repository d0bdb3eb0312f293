"""`preflight up`: take the port, prepare the database, make sure someone can sign in, then serve the app
until Ctrl-C.

The listening socket is bound first, before the database is touched or any background work (reconcile,
observer) starts, so a busy port is one clear error and nothing else happens. The bound socket is handed to
uvicorn, so there is no window in which another process could take the port between the check and the use.

On stop, local deployments keep running (they are detached, like a Kubernetes workload outlives
``kubectl apply``; see docs/deploy-lifecycle.md): `up` says which ones and how to stop them.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import secrets
import signal
import socket
import sys
from types import FrameType
from typing import Any

from app.errors import Conflict

logger = logging.getLogger(__name__)


class PortUnavailableError(Conflict):
    """The address `preflight up` should listen on cannot be bound; the message says what to do."""


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port), or :class:`PortUnavailableError` naming the cause."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise PortUnavailableError(f"cannot listen on {host!r}: {e.strerror}; check --host") from e
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    # SO_REUSEADDR lets a restart reuse a port in TIME_WAIT; Linux still refuses a port someone listens on.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise PortUnavailableError(
                f"port {port} on {host} is already in use (another `preflight up`?): stop that process "
                "or choose another port with --port"
            ) from e
        if e.errno == errno.EACCES:
            raise PortUnavailableError(
                f"no permission to listen on port {port}: use a port above 1023 with --port"
            ) from e
        raise PortUnavailableError(f"cannot listen on {host}:{port}: {e.strerror}") from e
    sock.set_inheritable(True)
    return sock


async def ensure_first_admin() -> tuple[str, str, str] | None:
    """On a database with no users, create `admin` with a random password: (name, password, api token).

    Without it, a fresh `preflight up` would serve a sign-in page nobody can pass.
    """
    from sqlalchemy import func, select

    from app.auth import create_user
    from db import models as m
    from db.session import session_scope

    async with session_scope() as session:
        if (await session.execute(select(func.count()).select_from(m.User))).scalar_one():
            return None
        password = secrets.token_urlsafe(12)
        _, token = await create_user("admin", password, admin=True, session=session)
    return "admin", password, token


async def still_running_message() -> str | None:
    """After the server stops: which local deployments keep serving and how to stop them (None: none)."""
    from app.deploy.service import live_local_deployments
    from db.session import DatabaseUnavailableError, dispose_engine, session_scope

    try:
        async with session_scope() as session:
            live = await live_local_deployments(session=session)
    except DatabaseUnavailableError:
        return None
    finally:
        await dispose_engine()
    if not live:
        return None
    lines = [
        f"{len(live)} local deployment(s) keep running after Preflight stops (by design; see "
        "docs/deploy-lifecycle.md):"
    ]
    lines += [f"  {d.id}  {d.name}  {d.endpoint or ''}".rstrip() for d in live]
    lines.append(
        "Stop them with `preflight deployments stop-all` (or one with `preflight deployments delete ID`)."
    )
    return "\n".join(lines)


def proxy_options(trusted_proxies: list[str]) -> dict[str, Any]:
    """uvicorn's forwarded-header options. uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so
    any local process could choose the client address that sign-in throttling counts: only the listed
    proxies are believed, and with none the TCP peer is the client."""
    if not trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(trusted_proxies)}


def serve(host: str, port: int) -> None:
    import typer
    import uvicorn

    from app.api import create_app
    from app.config import get_settings
    from db.session import dispose_engine, get_engine

    sock = bind_listener(host, port)

    # Prepare (start, migrate, seed) before serving, so the first page load is not the one that waits.
    async def prepare() -> tuple[str, str, str] | None:
        await get_engine()
        first = await ensure_first_admin()
        await dispose_engine()
        return first

    try:
        first = asyncio.run(prepare())
    except BaseException:
        sock.close()
        raise
    url = f"http://{host}:{port}"
    # SIGTERM ends like Ctrl-C (uvicorn re-raises the signal it caught to this handler after shutting down),
    # so the report below is printed in both cases, whenever the signal comes.
    signal.signal(signal.SIGTERM, _interrupt)
    # Planning runs on worker threads in pure Python. After every socket call the event loop must take the
    # interpreter lock back from a planner thread, which CPython hands over only every switch interval: at
    # the default 5 ms, a request needing a few round trips waits tens of ms per step while planning runs.
    sys.setswitchinterval(get_settings().gil_switch_interval_ms / 1000)
    try:
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(),
                log_level="warning",
                **proxy_options(get_settings().trusted_proxies),
            )
        )
        if first is not None:
            name, password, token = first
            typer.echo(
                f"No users yet: created the admin '{name}' with password {password}\n"
                f"  API token (shown once): {token}\n"
                "  Add people with `preflight user add NAME`."
            )
        typer.echo(f"Preflight is up at {url} (Ctrl-C stops it)")
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    message = asyncio.run(still_running_message())
    if message:
        typer.echo(message)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
