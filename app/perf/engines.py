"""Serving engine versions: the one pin of the vLLM Preflight deploys, and which calibrated stack a version
runs on.

``DEPLOYED_VLLM_VERSION`` is the single source of truth: the manifests' image tag (app.deploy) and the
performance model's default engine version both come from it, so a prediction describes the engine that is
deployed. docs/performance-model.md lists which versions rest on which measurements.
"""

from __future__ import annotations

import re

from app.perf.errors import InvalidConfigError

DEPLOYED_VLLM_VERSION = "0.10.1.1"
VLLM_IMAGE_REPOSITORY = "vllm/vllm-openai"

# vLLM's V1 engine became the default in 0.8; older versions (and VLLM_USE_V1=0) run the V0 engine.
_V1_FROM = (0, 8)


def vllm_image(version: str = DEPLOYED_VLLM_VERSION) -> str:
    """The container image of a vLLM version (the deployed one by default)."""
    return f"{VLLM_IMAGE_REPOSITORY}:v{version}"


def parse_version(text: str) -> tuple[int, int]:
    """(major, minor) of a version string such as '0.11.0', 'v0.10.1.1' or '0.9.0 (V0 engine)'."""
    match = re.search(r"(\d+)\.(\d+)", text)
    if not match:
        raise InvalidConfigError(f"engine version {text!r} is not a version number such as 0.11.0")
    return int(match.group(1)), int(match.group(2))


def stack_for(engine: str, version: str | None = None, *, v0_engine: bool = False) -> str:
    """The calibrated software stack (calibrate.STACKS) an engine version runs on.

    vLLM: the V1 engine (>= 0.8, the deployed version by default) is ``vllm-v1``; the V0 engine (0.6 up to
    0.9 with VLLM_USE_V1=0) is ``vllm-0.6``. TensorRT-LLM: ``trtllm-0.9`` for the 0.x static-batch
    generation, NIM's (``nim``) otherwise. SGLang has no rows: it borrows vLLM V1's stack.
    """
    if engine == "vllm":
        ver = parse_version(version or DEPLOYED_VLLM_VERSION)
        return "vllm-0.6" if v0_engine or ver < _V1_FROM else "vllm-v1"
    if engine == "trtllm":
        if version is not None and parse_version(version) < (0, 10):
            return "trtllm-0.9"
        return "nim"
    if engine == "sglang":
        return "vllm-v1"
    raise InvalidConfigError(f"unknown engine {engine!r}; use vllm, trtllm or sglang")
