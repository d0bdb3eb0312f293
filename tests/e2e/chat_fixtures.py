"""Shared helpers for chat tests and benchmarks: users, a running chat server, and a Chromium browser."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    token: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_accounts(db_url: str, *names: str, admin: frozenset[str] = frozenset()) -> dict[str, Account]:
    """Create users (password = name + '-password') directly in ``db_url``; returns their API tokens."""
    from app.auth import create_user
    from db.session import make_engine

    async def go() -> dict[str, Account]:
        from sqlalchemy.ext.asyncio import AsyncSession

        engine = make_engine(db_url)
        accounts: dict[str, Account] = {}
        async with AsyncSession(engine, expire_on_commit=False) as session:
            for name in names:
                password = f"{name}-password"
                _, token = await create_user(name, password, admin=name in admin, session=session)
                accounts[name] = Account(name, password, token)
            await session.commit()
        await engine.dispose()
        return accounts

    return asyncio.run(go())


@contextmanager
def chat_server(
    db_url: str, data_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run Preflight's app on a free port; yields its URL."""
    port = free_port()
    env = dict(
        os.environ, PREFLIGHT_DATABASE_URL=db_url, PREFLIGHT_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT)
    )
    env.update(extra_env or {})
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "app.api:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"chat server exited early:\n{log_path.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"chat server did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
