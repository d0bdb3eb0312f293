"""Signing in to the chat while the database is down says so, in the real browser: the knowledge base is
unavailable and Preflight is retrying; never "wrong password"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chat_fixtures import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port
from support.waiting import wait_for_answer

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium",
)


def test_sign_in_with_the_database_down_says_the_knowledge_base_is_unavailable(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = dict(
        os.environ,
        PREFLIGHT_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",  # nothing listens on port 1
        PREFLIGHT_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=str(ROOT),
    )
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "app.api:create_app", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_answer(
                f"{url}/api/health", proc, status=503, timeout_s=180, log=lambda: log_path.read_text()[-3000:]
            )
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"{url}/login")
                page.fill("#email", "alice")
                page.fill("#password", "any password")
                page.locator("button[type=submit]").click()
                page.get_by_text("knowledge base is unavailable").wait_for(timeout=60_000)
                body = page.inner_text("body")
                browser.close()
            assert "retrying" in body and "password was not checked" in body
            assert "Check the details you provided are correct" not in body
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
