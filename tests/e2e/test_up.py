"""`preflight up` serves the app on the requested address and exits cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from support.waiting import wait_for_answer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_up_serves_health_and_stops_on_ctrl_c(fresh_db_url: str) -> None:
    port = free_port()
    env = dict(os.environ, PREFLIGHT_DATABASE_URL=fresh_db_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = wait_for_answer(f"http://127.0.0.1:{port}/api/health", proc, timeout_s=120).json()
        assert body is not None and body["database"]["ok"] is True
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_first_start_creates_an_admin_who_can_sign_in(fresh_db_url: str) -> None:
    """A fresh database has no users; `up` creates `admin` and prints the password once."""
    import asyncio

    from sqlalchemy import text

    from db.session import make_engine

    async def wipe_users() -> None:
        engine = make_engine(fresh_db_url)
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM api_tokens"))
            await conn.execute(text("DELETE FROM users"))
        await engine.dispose()

    asyncio.run(wipe_users())
    port = free_port()
    env = dict(os.environ, PREFLIGHT_DATABASE_URL=fresh_db_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "created the admin 'admin' with password" in first, first
        password = first.rsplit(" ", 1)[1].strip()
        token = proc.stdout.readline().rsplit(" ", 1)[1].strip()
        r = wait_for_answer(
            f"http://127.0.0.1:{port}/api/data/health",
            proc,
            headers={"Authorization": f"Bearer {token}"},
            timeout_s=60,
        )
        assert r.status_code == 200
        login = httpx.post(
            f"http://127.0.0.1:{port}/login", data={"username": "admin", "password": password}, timeout=10
        )
        assert login.status_code == 200, login.text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_a_busy_port_is_a_clear_error_before_anything_starts(tmp_path: Path) -> None:
    """The port is taken before the database is touched: the database here does not even exist, so any
    attempt to start reconcile or the observer would fail differently (and slowly)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = dict(
            os.environ,
            PREFLIGHT_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
            PREFLIGHT_DATA_DIR=str(tmp_path),
        )
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", "up", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in proc.stderr and "--port" in proc.stderr
    assert "Preflight is up" not in proc.stdout and "Traceback" not in proc.stderr


def test_repeated_wrong_passwords_are_throttled_with_429(fresh_db_url: str) -> None:
    """The chat's sign-in (`POST /login`) against a real `preflight up`: after the allowed failures, 429 with
    Retry-After, even for the right password; the audit log says so."""
    import asyncio

    from sqlalchemy import select

    from app.auth import create_user
    from db import models as m
    from db.session import make_engine

    async def add_user() -> None:
        engine = make_engine(fresh_db_url)
        async with engine.begin() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            async with AsyncSession(bind=conn) as s:
                await create_user("zoe", "the right password", session=s)
                await s.flush()
        await engine.dispose()

    async def audit_actions() -> list[str]:
        engine = make_engine(fresh_db_url)
        async with engine.connect() as conn:
            rows = await conn.execute(select(m.AuditLog.action).where(m.AuditLog.action.startswith("login.")))
            actions = list(rows.scalars())
        await engine.dispose()
        return actions

    asyncio.run(add_user())
    port = free_port()
    env = dict(os.environ, PREFLIGHT_DATABASE_URL=fresh_db_url, PREFLIGHT_LOGIN_MAX_FAILURES_PER_USER="3")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_answer(f"{url}/api/health", proc, timeout_s=120)

        def login(password: str) -> httpx.Response:
            return httpx.post(f"{url}/login", data={"username": "zoe", "password": password}, timeout=30)

        assert login("the right password").status_code == 200
        assert [login("a wrong guess").status_code for _ in range(3)] == [401, 401, 401]
        throttled = login("the right password")
        assert throttled.status_code == 429, throttled.text
        assert 1 <= int(throttled.headers["Retry-After"]) <= 900
        assert "too many failed sign-ins" in throttled.json()["error"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert asyncio.run(audit_actions()) == ["login.throttled"]
