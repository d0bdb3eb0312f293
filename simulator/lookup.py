"""Derive a profile from a benchmarks file of published measurements (the seed design's lookup).

The file holds `measurements[]` rows with model, gpu, tp, concurrency, input/output tokens and TTFT/ITL
means (the layout of `serving_measurements.json`). The derivation, documented in simulator/README.md:

1. Rows are matched by normalised model name (organisation prefix, `-Instruct`/`-it` suffix and case
   ignored), GPU (the requested name is a prefix of the row's, so `H100` matches `H100-SXM-80GB`) and
   TP. When the GPU name matches several parts, the one with the most rows is used. When no row has the
   requested TP, the nearest TP present is used. Rows from a vLLM engine are preferred when any match;
   otherwise all engines are used (and the source says so).
2. Decode: ITL (or TPOT when ITL is missing) is fitted by least squares to
   `base + per_seq * concurrency + per_context_token * concurrency * (input + output / 2)`.
   A coefficient that comes out negative is dropped and the fit is repeated, so the result never
   predicts a faster step for a larger batch.
3. Prefill: TTFT of the lowest-concurrency row of each input length is fitted to
   `overhead + per_token * input_tokens`; with a single input length, 20% of that TTFT is taken as
   overhead and the rest is spread over the tokens.
4. Scheduler limits and KV capacity are not in the measurements; they come from the base preset.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.profile import Profile, ProfileError, parse_profile


@dataclass(frozen=True)
class _Row:
    concurrency: float
    input_tokens: float
    output_tokens: float
    ttft_ms: float | None
    itl_ms: float | None


def normalize_model(name: str) -> str:
    base = name.strip().split("/")[-1].lower()
    base = re.sub(r"[-_ ](instruct|chat|it)$", "", base)
    return re.sub(r"[^a-z0-9.]+", "-", base)


def _gpu_matches(wanted: str, row_gpu: str) -> bool:
    w = re.sub(r"[^a-z0-9]", "", wanted.lower())
    r = re.sub(r"[^a-z0-9]", "", row_gpu.lower())
    return bool(w) and r.startswith(w)


def _fit_nonnegative(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares that drops features whose coefficient comes out negative (column 0 is the intercept)."""
    active = list(range(x.shape[1]))
    coef = np.zeros(x.shape[1])
    while active:
        sol, *_ = np.linalg.lstsq(x[:, active], y, rcond=None)
        negative = [a for a, c in zip(active, sol, strict=True) if c < 0 and a != 0]
        if not negative:
            coef[:] = 0.0
            coef[active] = sol
            if coef[0] < 0:  # a negative intercept: refit through the origin
                active.remove(0)
                continue
            return coef
        active.remove(negative[0])
    return coef


def derive_profile(
    benchmarks_path: str | Path,
    *,
    model: str,
    gpu: str,
    tp: int,
    base: Profile,
    served_model: str | None = None,
) -> Profile:
    path = Path(benchmarks_path)
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ProfileError(f"benchmarks file {path} does not exist; set --benchmarks/BENCHMARKS_PATH") from e
    except (OSError, json.JSONDecodeError) as e:
        raise ProfileError(f"cannot read benchmarks file {path}: {e}") from e
    rows_raw = raw.get("measurements") if isinstance(raw, dict) else raw
    if not isinstance(rows_raw, list):
        raise ProfileError(f"benchmarks file {path} has no measurements[] list")

    wanted = normalize_model(model)
    candidates = [
        r
        for r in rows_raw
        if isinstance(r, dict)
        and normalize_model(str(r.get("model", ""))) == wanted
        and _gpu_matches(gpu, str(r.get("gpu", "")))
    ]
    if not candidates:
        models = sorted({str(r.get("model")) for r in rows_raw if isinstance(r, dict)})
        raise ProfileError(
            f"no measurements for model {model!r} on GPU {gpu!r} in {path}; "
            f"models present: {', '.join(models)}"
        )
    # A short GPU name can match several parts (H100 -> SXM and NVL): keep the one with the most rows.
    gpu_names = sorted({str(r.get("gpu")) for r in candidates})
    chosen_gpu = max(gpu_names, key=lambda g: sum(1 for r in candidates if r.get("gpu") == g))
    candidates = [r for r in candidates if r.get("gpu") == chosen_gpu]
    tps = sorted({int(r.get("tp") or 1) for r in candidates})
    chosen_tp = min(tps, key=lambda t: (abs(t - tp), t))
    candidates = [r for r in candidates if int(r.get("tp") or 1) == chosen_tp]
    vllm_rows = [r for r in candidates if "vllm" in str(r.get("engine", "")).lower()]
    engine_note = (
        "vLLM rows only" if vllm_rows else "no vLLM rows; all engines used (likely faster than vLLM)"
    )
    if vllm_rows:
        candidates = vllm_rows

    rows = [
        _Row(
            concurrency=float(r.get("concurrency") or r.get("batch_size") or 1),
            input_tokens=float(r.get("input_tokens") or 0),
            output_tokens=float(r.get("output_tokens") or 0),
            ttft_ms=r.get("ttft_ms_mean"),
            itl_ms=r.get("itl_ms_mean") if r.get("itl_ms_mean") is not None else r.get("tpot_ms_mean"),
        )
        for r in candidates
    ]
    itl_rows = [r for r in rows if r.itl_ms is not None and r.itl_ms > 0]
    if not itl_rows:
        raise ProfileError(f"measurements for {model!r} on {gpu!r} (TP {chosen_tp}) carry no ITL/TPOT means")
    x = np.array(
        [[1.0, r.concurrency, r.concurrency * (r.input_tokens + r.output_tokens / 2)] for r in itl_rows]
    )
    y = np.array([float(r.itl_ms or 0.0) for r in itl_rows])
    base_ms, per_seq_ms, per_ctx_ms = (float(v) for v in _fit_nonnegative(x, y))

    # Prefill from the least-loaded row of each input length.
    lowest: dict[float, _Row] = {}
    for r in rows:
        if r.ttft_ms is None or r.ttft_ms <= 0 or r.input_tokens <= 0:
            continue
        best = lowest.get(r.input_tokens)
        if best is None or r.concurrency < best.concurrency:
            lowest[r.input_tokens] = r
    if len(lowest) >= 2:
        px = np.array([[1.0, r.input_tokens] for r in lowest.values()])
        py = np.array([float(r.ttft_ms or 0.0) for r in lowest.values()])
        overhead_ms, per_token_ms = (float(v) for v in _fit_nonnegative(px, py))
    elif len(lowest) == 1:
        only = next(iter(lowest.values()))
        overhead_ms = 0.2 * float(only.ttft_ms or 0.0)
        per_token_ms = 0.8 * float(only.ttft_ms or 0.0) / only.input_tokens
    else:
        overhead_ms, per_token_ms = base.prefill.overhead_ms, base.prefill.per_token_ms

    data = base.model_dump()
    data["model"] = served_model or model
    data["prefill"] = {"overhead_ms": round(overhead_ms, 4), "per_token_ms": round(per_token_ms, 6)}
    data["decode"] = {
        "base_ms": round(base_ms, 4),
        "per_seq_ms": round(per_seq_ms, 6),
        "per_context_token_ms": round(per_ctx_ms, 9),
        "table": None,
    }
    data["source"] = {
        "kind": "benchmarks",
        "detail": f"{path.name}: {len(itl_rows)} ITL rows, {len(lowest)} prefill rows for {model} "
        f"on {chosen_gpu} "
        f"TP {chosen_tp} (asked TP {tp}); {engine_note}; limits and KV capacity from the base preset",
    }
    return parse_profile(data, origin=f"profile derived from {path}")
