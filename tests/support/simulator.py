"""A real `python -m simulator` process on a free loopback port, for tests that drive it over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Simulator:
    """`python -m simulator --profile FILE` with `profile` written under `tmp`, started and waited for.

    With `ready=True` start-up waits until /health is 200; with `ready=False` only until the server answers
    (/version), for tests that watch a slow start where /health is 503 for a while.
    """

    def __init__(
        self, tmp: Path, profile: dict[str, Any], env: dict[str, str] | None = None, *, ready: bool = True
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        path = tmp / f"profile-{self.port}.json"
        path.write_text(json.dumps(profile))
        cmd = [sys.executable, "-m", "simulator", "--profile", str(path), "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, "--log-level", "warning"], cwd=ROOT, env={**os.environ, **(env or {})}
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if ready:
                    httpx.get(self.url + "/health", timeout=1).raise_for_status()
                else:
                    httpx.get(self.url + "/version", timeout=1)
                return
            except httpx.HTTPError:
                assert self.proc.poll() is None, "the simulator exited during start-up"
                time.sleep(0.1)
        raise RuntimeError("the simulator did not start in 30 s")

    def kill(self) -> None:
        """SIGKILL, as a crash would; a no-op when it has already exited."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, a graceful shutdown."""
        self.proc.terminate()
        self.proc.wait(10)
