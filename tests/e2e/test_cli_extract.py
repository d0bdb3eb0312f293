"""`preflight extract` as a person runs it: no database, the bundled examples, numbers it did not use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXE = [sys.executable, "-m", "app.cli", "extract"]


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # A database URL nobody listens on: extraction must not need one.
    env["PREFLIGHT_DATABASE_URL"] = "postgresql+asyncpg://nobody@127.0.0.1:9/none"
    env["PREFLIGHT_DATA_DIR"] = str(tmp_path)
    env.pop("PREFLIGHT_LLM_BASE_URL", None)
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=180, env=env)


def test_extract_reads_kinds_hardware_and_reports_unused_numbers(tmp_path: Path) -> None:
    text = "Wir besitzen 4 A100 80GB und wollen sie nutzen: Chatbot für 300 gleichzeitige Nutzer, Version 2"
    done = run(["--json", text], tmp_path)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["concurrent_users"] == 300 and got["task_type"] == "chatbot"
    assert got["gpu_inventory"] == [{"gpu": "A100-SXM-80GB", "count": 4}]
    assert got["deployment_model"] == "owned_hardware"
    assert "numbers I did not use: 2" in done.stderr  # the service's wording (app.services.specify)


def test_an_undecided_task_is_said(tmp_path: Path) -> None:
    done = run(["Generate whole Python functions from docstrings, we own 8 H100s"], tmp_path)
    assert done.returncode == 0, done.stderr
    # Either the examples decide it, or the command says it could not tell and names the candidate.
    if "code_generation" not in done.stdout:
        assert "task_type is unclear: code_generation" in done.stderr, done.stderr
