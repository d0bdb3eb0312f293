"""Modern vLLM measurement rows (``vllm_modern_measurements.json``) in the shape ``calibrate.build_cases``
takes: the conditions each row ran under, read from its fields and notes (pure: no I/O).

What is kept and why (see shared/data/published/VLLM_MODERN.md):
- inference-perf KubeCon rows: open loop at a constant rate; TPOT is the derived per-token value (the
  client's own TPOT counts two stream events per token). Prefix caching ON serves the 128-token shared
  system prompt from cache. A row whose achieved rate fell short of the offered one is saturated.
- GPUStack rows with a concurrency cap: closed loop. Without a cap (rate inf): a burst of all requests at
  once, scored on the run's output throughput and mean TPOT (their TTFT is queueing, not scored).
- Dropped: sim-to-real rows (rate and lengths not published), speculative decoding (EAGLE3), bitsandbytes
  in-flight quantisation, pipeline parallelism, and models or GPUs outside the catalog (by the caller).
"""

from __future__ import annotations

import re
from typing import Any

from app.perf.engines import stack_for

# vLLM V1 defaults for the OpenAI server (vllm/engine/arg_utils.py): GPUs with >= 70 GiB that are not
# A100s get 8192 batched tokens and 1024 sequences, the others 2048 and 256.
_BIG_DEFAULTS = (1024, 8192.0)
_SMALL_DEFAULTS = (256, 2048.0)
_SHAREGPT_OUT_CV = 1.0  # ShareGPT completion lengths spread about as much as an exponential
_RANDOM_OUT_CV = 0.1  # random-dataset rows: a maximum length, a few requests stop early at EOS


def _precision(text: str) -> str | None:
    low = text.lower()
    if "eagle" in low or "speculative" in low or "bitsandbytes" in low:
        return None
    if low.startswith("mxfp4") or "awq" in low or low.startswith("int4"):
        return "int4"  # 4-bit weights (gpt-oss's MXFP4 experts; attention stays 16-bit, a small share)
    if low.startswith("fp8"):
        return "fp8"
    if low.startswith("bf16") or low.startswith("fp16"):
        return "bf16"
    return None


def _arg(command: str, pattern: str) -> float | None:
    m = re.search(pattern, command)
    return float(m.group(1)) if m else None


def normalise(rec: dict[str, Any]) -> dict[str, Any] | None:
    """One modern row as a ``build_cases`` record (override keys start with ``_``), or None to drop it."""
    if rec.get("conditions_incomplete"):
        return None
    precision = _precision(str(rec.get("precision") or ""))
    notes = str(rec.get("notes") or "")
    if precision is None or re.search(r"(^|\s)-pp\s|--pipeline-parallel", notes):
        return None
    gpu = str(rec.get("gpu") or "")
    big = ("H100" in gpu or "H200" in gpu or "B200" in gpu) and "A100" not in gpu
    max_seqs, budget = _BIG_DEFAULTS if big else _SMALL_DEFAULTS
    max_seqs = int(_arg(notes, r"max-num-seqs[= ](\d+)") or max_seqs)
    budget = _arg(notes, r"--max-num-batched-tokens[= ](\d+)") or budget
    mem_util = _arg(notes, r"gpu[-_]memory[-_]utili[sz]ation[= ](0?\.\d+)") or 0.9
    version = str(rec.get("vllm_version") or "")
    v0 = "V0" in str(rec.get("engine") or "") or "VLLM_USE_V1=0" in str(rec.get("engine") or "")
    out: dict[str, Any] = {
        **rec,
        "precision": precision,
        "engine": "vllm",
        # Per-token time: the mean ITL where the source has one (no speculative decoding is kept, so a chunk
        # is a token; it is token-weighted, unlike vllm bench's per-request mean TPOT), else the per-token
        # TPOT derived from E2E and TTFT (inference-perf's own counts two stream events per token).
        "itl_ms_mean": rec.get("itl_ms_mean"),
        "tpot_ms_mean": rec.get("tpot_ms_mean_derived") or rec.get("tpot_ms_mean"),
        "_stack": stack_for("vllm", version, v0_engine=v0),
        "_max_num_seqs": max_seqs,
        "_budget": budget,
        "_mem_util": mem_util,
        "input_tokens": rec.get("measured_input_tokens_mean") or rec.get("input_tokens"),
        "output_tokens": rec.get("measured_output_tokens_mean") or rec.get("output_tokens"),
    }
    workload = str(rec.get("workload") or "")
    if rec.get("source") == "infperf_kubecon2025":
        rate = float(rec["request_rate"])
        achieved = float(rec.get("achieved_request_rate") or rate)
        out |= {
            "_scenario": "open_loop",
            "_arrival_cv": 0.0,  # inference-perf's constant load type: evenly spaced requests
            "_cached": 128.0 if "prefix caching ON" in notes else 0.0,
            "_saturated": achieved < 0.97 * rate,
            # Past capacity the TTFT is the client's own queue (its worker pool), not the server's.
            "ttft_ms_mean": rec.get("ttft_ms_mean") if achieved >= 0.97 * rate else None,
            "request_rate": rate,
            "num_prompts": rec.get("num_requests"),
        }
        return out
    if rec.get("source") != "gpustack_perflab":
        return None
    out_cv = _SHAREGPT_OUT_CV if "ShareGPT" in workload else _RANDOM_OUT_CV
    if rec.get("concurrency"):
        out |= {"_scenario": "closed_loop", "_out_cv": out_cv, "request_rate": None}
        return out
    out |= {
        "_scenario": "burst",
        "_out_cv": out_cv,
        "_saturated": True,
        "request_rate": None,
        "concurrency": None,
        "num_prompts": rec.get("num_requests"),
        "ttft_ms_mean": None,  # queueing behind hundreds of prompts: not scored
        # The run's throughput (all output tokens over the run): what a burst sustains, prefill included.
        "output_tokens_per_s": rec.get("output_tokens_per_s"),
        "requests_per_s": None,
    }
    return out
