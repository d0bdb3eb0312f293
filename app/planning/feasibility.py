"""Can this configuration actually be served: the context window, and the checkpoint vLLM would load.

Pure functions. The planner rejects a model whose context window is shorter than a p95 prompt plus a p95
reply, sets ``max_model_len`` from the request lengths (never above the window), and serves each precision
from a checkpoint that exists:

- a published repo recorded in the catalog for that precision (``models.checkpoints``, with its publisher):
  vLLM reads the quantisation from the repo's config, so no ``--quantization`` flag is passed;
- fp8 without a published repo: the bf16 repo with ``--quantization fp8`` (vLLM's online dynamic FP8; the
  candidate query only pairs fp8 with GPUs that have FP8 tensor cores);
- bf16/fp16: the model's own repo.

Any other precision (int4 or mxfp4 without a recorded repo) has no checkpoint: ``serving_checkpoint``
returns None and the planner drops the configuration with that reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from app.planning.result import Checkpoint

# Rounding of max_model_len: whole KiB-token blocks, as people write them (8192, 9216).
MODEL_LEN_STEP = 1024


def tokens_needed_p95(prompt_p95: float, output_p95: float) -> int:
    """Context a p95 request needs: its prompt and its reply at their 95th percentiles."""
    return math.ceil(prompt_p95 + output_p95)


def context_shortfall(context_window: int | None, needed: int) -> str | None:
    """Why the window is too short for a p95 request, or None when it fits (or is not recorded)."""
    if not context_window or context_window >= needed:
        return None
    return (
        f"context window {context_window:,} tokens < {needed:,} needed "
        "(p95 prompt + p95 output): requests would be cut off or refused"
    )


def max_model_len(context_window: int | None, needed_p95: int, longest: int) -> int:
    """--max-model-len: room for the longest request sized for (``longest``), rounded up to a KiB of tokens,
    at least the p95 request, and never beyond the model's window."""
    want = max(needed_p95, longest)
    value = int(math.ceil(want / MODEL_LEN_STEP) * MODEL_LEN_STEP)
    if context_window:
        value = min(value, int(context_window))
    return value


_NATIVE = ("bf16", "fp16")


def loadable(precision: str, checkpoints: Sequence[Mapping[str, Any]]) -> bool:
    """Whether ``serving_checkpoint`` finds weights for this precision (cheap: no object is built)."""
    return (
        precision in _NATIVE
        or precision == "fp8"
        or any(c.get("precision") == precision for c in checkpoints)
    )


def serving_checkpoint(
    model_id: str, precision: str, checkpoints: Sequence[Mapping[str, Any]]
) -> Checkpoint | None:
    """The repo and flag that serve ``precision`` of ``model_id``, or None when nothing loadable exists."""
    published = next((c for c in checkpoints if c.get("precision") == precision), None)
    if published is not None:
        who = str(published.get("publisher") or "")
        official = bool(published.get("official"))
        return Checkpoint(
            repo=str(published["repo"]),
            precision=precision,
            format=str(published.get("format") or precision),
            quantization=None,
            how=f"published {'by the model authors' if official else 'checkpoint'} ({who})",
            source=str(published.get("source") or f"https://huggingface.co/{published['repo']}"),
        )
    if precision in _NATIVE:
        return Checkpoint(
            repo=model_id,
            precision=precision,
            format=precision,
            quantization=None,
            how="the model's own release",
            source=f"https://huggingface.co/{model_id}",
        )
    if precision == "fp8":
        return Checkpoint(
            repo=model_id,
            precision="fp8",
            format="bf16",
            quantization="fp8",
            how="vLLM quantises the bf16 weights to FP8 online at load (dynamic scales)",
            source=f"https://huggingface.co/{model_id}",
        )
    return None
