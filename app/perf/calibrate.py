"""Fit the efficiency factors of the physics model on benchmark records (pure: no I/O).

Records are dicts shaped like ``serving_measurements.json`` rows. The caller passes lookups that turn a
record's model and GPU names into ``ModelArch`` / ``GpuSpec``. The fit is a regularised least squares
(scipy's trust-region solver) on log errors with a hierarchy GPU → GPU family → global, so a GPU without
data falls back to its family.
Interval widths come from out-of-fold residuals (grouped by model), never from the rows the fit saw.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from scipy.optimize import least_squares

from app.perf.errors import PlanningError
from app.perf.memory import default_kv_dtype_bytes, kv_bytes_for_sequence, plan_memory
from app.perf.model import SCENARIOS, Factors, RawCosts, raw_costs, steady_state
from app.perf.types import GpuSpec, ModelArch

log = logging.getLogger(__name__)

METRICS = ("ttft_ms", "tpot_ms", "output_tokens_per_s")


class CalibrationError(PlanningError):
    """The efficiency factors cannot be fitted (no usable benchmark rows)."""


# Published measurement names → catalog ids (the measurement file uses short names).
MEASUREMENT_MODELS: dict[str, str] = {
    "Llama-2-7B": "meta-llama/Llama-2-7b-hf",
    "Llama-2-13B": "meta-llama/Llama-2-13b-hf",
    "Llama-2-70B": "meta-llama/Llama-2-70b-hf",
    "Mistral-7B": "mistralai/Mistral-7B-v0.1",
    "Mixtral-8x7B": "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "GPT-J-6B": "EleutherAI/gpt-j-6b",
    "Falcon-180B": "tiiuae/falcon-180B",
    "Llama-3-8B": "meta-llama/Meta-Llama-3-8B-Instruct",
    "Llama-3.1-8B": "meta-llama/Llama-3.1-8B-Instruct",
    "Llama-3.3-70B": "meta-llama/Llama-3.3-70B-Instruct",
    "Llama-3.1-405B": "meta-llama/Llama-3.1-405B-Instruct",
    "DeepSeek-R1-0528": "deepseek-v3",  # the DeepSeek-V3 architecture (VLLM_MODERN.md)
}
GPU_NAMES: dict[str, str] = {"A100-80GB (form factor not stated)": "A100-SXM-80GB"}

ENGINE_KEYS = ("trtllm", "vllm")

# Software stacks the published rows ran on. Each has its own per-step overhead, efficiency multipliers,
# all-reduce latency and per-request overhead (software generations differ, see the data README);
# ``trtllm-0.9`` is the reference (multipliers 1). ``vllm-v1`` (vLLM >= 0.8, the V1 engine) has no published
# rows in shared/: it is the fitted ``vllm-0.6`` stack scaled by the prior ratios below (``STACK_PARENT``).
STACKS = ("trtllm-0.9", "nim", "trtllm-1.x", "vllm-0.6", "vllm-v1")
SOURCE_STACK = {
    "trtllm_dli_csv": "trtllm-0.9",
    "nim_dli_csv": "nim",
    "trtllm_perf_v1": "trtllm-1.x",
    "trtllm_perf_devguide": "trtllm-1.x",
    "dstack_405b": "vllm-0.6",
}
# The stack a planner prediction uses for each engine (sglang borrows vLLM's with a smaller overhead).
ENGINE_STACK = {"trtllm": "nim", "vllm": "vllm-v1", "sglang": "vllm-v1"}
# A stack without rows in a fit inherits its parent's fitted values times the ratio of their priors.
STACK_PARENT = {"vllm-v1": "vllm-0.6"}
# Priors per stack, in the order of ``_STACK_FIELDS``. These are priors, not measurements; why each:
# - step_overhead_ms (once per engine step: scheduling, input preparation, sampling; CUDA graphs hide the
#   kernel launches). TensorRT-LLM's C++ executor: ~0.3 ms. vLLM 0.6.3's Python scheduler and
#   synchronous output processing: ~1.5 ms (single-GPU vLLM 0.6 ITLs sit about that far above the weight
#   streaming time). vLLM V1 (>= 0.8) overlaps scheduling and detokenisation with the GPU step in
#   separate processes and keeps a persistent batch: ~0.7 ms (about half of 0.6.3's).
# - bw_mult, flops_mult: kernel efficiency relative to TensorRT-LLM 0.9 (1.0 there by definition). vLLM's
#   kernels are a little slower on the same GPU: 0.9 each; V1 inherits 0.6's fitted values (ratio 1).
# - seq_overhead_ms (host work per running sequence and step): ~5 us in C++ engines, ~20 us in vLLM 0.6's
#   Python loop, ~10 us in V1.
# - allreduce_latency_ms, per all-reduce call and log2(tp) step over NVLink: ~10 us (NCCL's small-message
#   latency of ~20-30 us for 8 GPUs over 3 halving-doubling steps); vLLM 0.6's custom all-reduce is in the
#   same range (15 us prior), and its per-step broadcast of inputs to the TP workers lands here too. V1
#   sends only batch changes to persistent workers over shared memory: half of 0.6's (a prior ratio).
#   Only TP > 1 pays it: 2 calls per layer (after attention and after the MLP).
# - request_overhead_ms, once per request and off the GPU (HTTP parsing, chat template and tokenisation,
#   hand-off to the engine, first detokenisation and SSE write): 0 for in-process benchmarks (the static
#   and offline rows never pay it, whatever the stack), ~5 ms for NIM's OpenAI front end measured with
#   genai-perf (fitted on the NIM rows), ~10 ms for vLLM 0.6's API server, ~15 ms for V1 with a streaming
#   HTTP client (tokenisation in the API process, ZMQ hand-off to the engine core, the client's own SSE
#   handling). Typical single-request vLLM TTFTs for short prompts (15-25 ms where the prefill itself takes
#   5-10 ms) put it in the 5-20 ms range.
_STACK_FIELDS = (
    "step_overhead_ms",
    "bw_mult",
    "flops_mult",
    "seq_overhead_ms",
    "allreduce_latency_ms",
    "request_overhead_ms",
    "moe_mult",
)
# - moe_mult: routed-expert weight streaming relative to the stack's dense GEMMs. Expert GEMMs with a few
#   rows per expert (fused MoE kernels, 4-bit experts dequantised in the kernel) stream below the dense
#   rate; prior 1 (no penalty), fitted per stack on its MoE rows.
_STACK_PRIOR = {
    "trtllm-0.9": (0.3, 1.0, 1.0, 0.005, 0.01, 5.0, 1.0),
    "nim": (0.3, 1.0, 1.0, 0.005, 0.01, 5.0, 1.0),
    "trtllm-1.x": (0.3, 1.0, 1.0, 0.005, 0.01, 5.0, 1.0),
    "vllm-0.6": (1.5, 0.9, 0.9, 0.02, 0.015, 10.0, 1.0),
    "vllm-v1": (0.7, 0.9, 0.9, 0.01, 0.0075, 15.0, 1.0),
}


def canonical_engine(text: str) -> str:
    """vllm, trtllm or sglang from an engine label (NIM runs TensorRT-LLM)."""
    low = text.lower()
    if "vllm" in low:
        return "vllm"
    if "sglang" in low:
        return "sglang"
    return "trtllm"


def canonical_precision(text: str) -> str | None:
    low = text.lower()
    for p in ("fp8", "fp16", "bf16", "int8", "int4"):
        if low.startswith(p):
            return p
    return None  # fp4 and others: no planner precision


@dataclass(frozen=True)
class Case:
    """One benchmark record, normalised: the inputs ``predict`` takes to replay it, plus the truths."""

    index: int
    source: str
    model: str
    gpu: str
    family: str
    tp: int
    precision: str
    engine: str
    scenario: str  # a key of perf.SCENARIOS
    batch: float  # batch size / concurrency / offline batch
    inp: float
    out: float
    rate: float  # requests/s for open loop
    n_prompts: float
    truth: dict[str, float]
    raw: RawCosts
    max_batch: float
    stack: str = "trtllm-0.9"
    budget: float = 8192.0  # max tokens per engine step
    eager: bool = False
    max_num_seqs: int = 256
    mem_util: float = 0.9
    kv_bytes: float = 2.0
    degenerate_routing: bool = False
    mha_fallback: bool = False
    arch: ModelArch | None = None
    gpu_spec: GpuSpec | None = None
    out_cv: float = 0.0  # coefficient of variation of the output lengths
    arrival_cv: float = 1.0  # of the inter-arrival times (open loop)
    cached: float = 0.0  # prompt tokens per request served from the prefix cache
    saturated: bool = False  # the source says the server did not keep up (achieved < offered rate)
    version: str | None = None  # engine version the row ran


def _truths(rec: dict[str, Any], scenario: str, out: float, tp: int) -> dict[str, float]:
    t: dict[str, float] = {}
    if rec.get("ttft_ms_mean") and scenario not in ("offline", "offline_batch"):
        t["ttft_ms"] = float(rec["ttft_ms_mean"])
    # vLLM's mean TPOT averages per-request ratios, which a few stalled short requests dominate; the mean
    # ITL (time between tokens) is the quantity both engines' step times determine.
    tpot = rec.get("itl_ms_mean") or rec.get("tpot_ms_mean")
    if tpot:
        t["tpot_ms"] = float(tpot)
    thr = rec.get("output_tokens_per_s")
    if thr is None and rec.get("output_tokens_per_s_per_gpu") and rec.get("source") == "trtllm_perf_devguide":
        thr = float(rec["output_tokens_per_s_per_gpu"]) * tp
    if thr is None and rec.get("requests_per_s") and out:
        thr = float(rec["requests_per_s"]) * out
    if thr:
        t["output_tokens_per_s"] = float(thr)
    return t


def max_batch_for(
    arch: ModelArch,
    gpu: GpuSpec,
    tp: int,
    precision: str,
    kv_bytes: float,
    mem_util: float,
    max_num_seqs: int,
    tokens_per_seq: float,
    max_num_batched_tokens: int = 8192,
) -> float:
    """Sequences whose KV fits together, capped by ``max_num_seqs`` (shared with ``predict``)."""
    plan = plan_memory(
        arch,
        gpu,
        tp=tp,
        precision=precision,
        kv_dtype_bytes=kv_bytes,
        gpu_memory_utilization=mem_util,
        max_num_batched_tokens=max_num_batched_tokens,
        max_num_seqs=max_num_seqs,
    )
    per_seq = kv_bytes_for_sequence(arch, tokens_per_seq, tp, kv_bytes)
    if per_seq <= 0:
        return float(max_num_seqs)
    return float(max(1, min(max_num_seqs, int(plan.kv_cache // per_seq))))


def mha_fallback(arch: ModelArch, stack: str) -> bool:
    """Whether TensorRT-LLM 0.9's decode attention falls back to its multi-head kernel for this model.

    Its grouped-query kernel (XQA) handles power-of-two query groups; other group sizes (Falcon-180B: 232
    query heads over 8 KV heads = 29) use the multi-head kernel, which rereads each KV head per query head.
    """
    if stack != "trtllm-0.9" or arch.is_mla:
        return False
    group = arch.num_attention_heads // arch.num_key_value_heads
    return group > 1 and bool(group & (group - 1))


def _flag(notes: str, pattern: str) -> float | None:
    m = re.search(pattern, notes)
    return float(m.group(1)) if m else None


def build_cases(
    records: Sequence[dict[str, Any]],
    get_model: Callable[[str], ModelArch],
    get_gpu: Callable[[str], GpuSpec],
) -> list[Case]:
    """Normalise records; skip (with a log line) what the model cannot represent."""
    cases: list[Case] = []
    for i, rec in enumerate(records):
        precision = canonical_precision(str(rec.get("precision", "")))
        if precision is None:
            continue
        try:
            arch = get_model(MEASUREMENT_MODELS.get(rec["model"], rec["model"]))
            gpu = get_gpu(GPU_NAMES.get(rec["gpu"], rec["gpu"]))
        except ValueError as e:
            log.info("skipping record %d: %s", i, e)
            continue
        engine = canonical_engine(str(rec.get("engine", "")))
        tp = int(rec.get("tp") or 1)
        source = str(rec.get("source", ""))
        notes = str(rec.get("notes") or "")
        n_prompts = float(rec.get("num_prompts") or 0)
        scen_text = str(rec.get("scenario") or "")
        if rec.get("_scenario"):
            scenario = str(rec["_scenario"])
        elif source == "trtllm_dli_csv":
            scenario = "static_batch"
        elif rec.get("request_rate"):
            scenario = "open_loop"
        elif scen_text.startswith("offline batch"):
            scenario = "offline_batch"
        elif scen_text.startswith("offline") or rec.get("concurrency") is None:
            scenario = "offline"
        else:
            scenario = "closed_loop"
        inp = float(rec.get("input_tokens") or 0)
        out = float(rec.get("output_tokens") or 0)
        if scenario == "open_loop" and n_prompts and rec.get("total_input_tokens"):
            inp = float(rec.get("total_input_tokens", 0)) / n_prompts
            out = float(rec.get("total_output_tokens", 0)) / n_prompts
        if inp <= 0 or out <= 0:
            continue
        stack = rec.get("_stack") or SOURCE_STACK.get(source, ENGINE_STACK.get(engine, "trtllm-0.9"))
        kv_bytes = default_kv_dtype_bytes(precision, engine)
        if "FP8-KV" in str(rec.get("model_variant") or ""):
            kv_bytes = 1.0
        # Engine limits as run: vLLM flags from the notes, trtllm-bench's 2048-sequence default.
        if rec.get("_max_num_seqs"):
            max_seqs, budget, mem_util = (
                int(rec["_max_num_seqs"]),
                float(rec["_budget"]),
                float(rec["_mem_util"]),
            )
        elif engine == "vllm":
            max_seqs = int(_flag(notes, r"max-num-seqs=(\d+)") or 256)
            flagged = _flag(notes, r"max-num-batched-tokens=(\d+)")
            # Without chunked prefill whole prompts go in one step: the budget is max_model_len.
            budget = flagged or (8192.0 if "chunked-prefill=TRUE" in notes else 32768.0)
            mem_util = 0.9
        else:
            max_seqs = 2048 if scenario == "offline" else 256
            budget, mem_util = 8192.0, 0.95
        max_batch = max_batch_for(
            arch, gpu, tp, precision, kv_bytes, mem_util, max_seqs, inp + out, int(budget)
        )
        if scenario == "static_batch":
            max_batch = float(rec.get("concurrency") or 1)
        elif scenario == "burst":
            max_batch = min(max_batch, n_prompts)
        elif scenario == "closed_loop":
            max_batch = min(max_batch, float(rec.get("concurrency") or 1))
        truth = _truths(rec, scenario, out, tp)
        if not truth:
            continue
        # dstack's MI300X runs of Meta's checkpoint used --enforce-eager (no HIP graphs): labels end -meta.
        eager = gpu.vendor == "AMD" and "-meta'" in notes
        degenerate = arch.is_moe and "fake (random) weights" in notes
        fallback = mha_fallback(arch, stack)
        raw = raw_costs(arch, gpu, tp, precision, kv_bytes)
        if degenerate:
            raw = replace(raw, n_exp=raw.top_k)
        if fallback:
            raw = replace(raw, kv_log_group=math.log(arch.num_attention_heads / arch.num_key_value_heads))
        cases.append(
            Case(
                index=i,
                source=source,
                model=arch.id,
                gpu=gpu.id,
                family=gpu.family,
                tp=tp,
                precision=precision,
                engine=engine,
                scenario=scenario,
                batch=float(rec.get("concurrency") or max_batch),
                inp=inp,
                out=out,
                rate=float(rec.get("request_rate") or 0.0),
                n_prompts=n_prompts or 1000.0,
                truth=truth,
                raw=raw,
                max_batch=max_batch,
                stack=stack,
                budget=float(budget),
                eager=bool(eager),
                max_num_seqs=max_seqs,
                mem_util=mem_util,
                kv_bytes=kv_bytes,
                degenerate_routing=bool(degenerate),
                mha_fallback=fallback,
                arch=arch,
                gpu_spec=gpu,
                out_cv=float(rec.get("_out_cv", 0.0)),
                arrival_cv=float(rec.get("_arrival_cv", 1.0)),
                cached=float(rec.get("_cached", 0.0)),
                saturated=bool(rec.get("_saturated", False)),
                version=rec.get("vllm_version"),
            )
        )
    return cases


class EngineFactors(BaseModel):
    """One software stack's factors (see ``_STACK_PRIOR`` for what each is and its prior)."""

    step_overhead_ms: float
    bw_mult: float = 1.0
    flops_mult: float = 1.0
    seq_overhead_ms: float = 0.0
    allreduce_latency_ms: float = 0.01
    request_overhead_ms: float = 0.0
    moe_mult: float = 1.0


def _default_stacks() -> dict[str, EngineFactors]:
    return {k: EngineFactors(**dict(zip(_STACK_FIELDS, v, strict=True))) for k, v in _STACK_PRIOR.items()}


# Interval widening for a stack without rows in the fit: (no fitted ancestor, parent fitted). A prior: the
# out-of-fold residuals come from stacks that were fitted, and a prior-only stack misses by more (vLLM's
# held-out rows missed by ~1.5-2x the typical error when its stack was left out).
UNSEEN_STACK_WIDEN = (2.0, 1.5)
UNSEEN_GPU_WIDEN = 1.5
# Stacks whose all-reduce is the one the kernel tables measured (vLLM's custom all-reduce, 0.14-0.24).
KERNEL_ALLREDUCE_STACKS = ("vllm-v1",)
ROOFLINE_FALLBACK_WIDEN = 2.0  # a prior: no measurement of the GPU at all, only its datasheet
# The GPU whose fitted efficiencies anchor the kernel tables' relative measurements (most rows, covered).
KERNEL_REFERENCE_GPU = "H100-SXM-80GB"
MIN_GROUP_ROWS = 20  # out-of-fold residuals a group needs for its own band


class Calibration(BaseModel):
    """Fitted efficiency factors with fit statistics; JSON-serialisable."""

    version: int = 3
    gpu_bw_eff: dict[str, float] = Field(default_factory=dict)
    gpu_flops_eff: dict[str, float] = Field(default_factory=dict)
    family_bw_eff: dict[str, float] = Field(default_factory=dict)
    family_flops_eff: dict[str, float] = Field(default_factory=dict)
    global_bw_eff: float = 0.75
    global_flops_eff: float = 0.55
    engines: dict[str, EngineFactors] = Field(
        default_factory=_default_stacks, description="per software stack (see calibrate.STACKS)"
    )
    engine_stack: dict[str, str] = Field(default_factory=lambda: dict(ENGINE_STACK))
    stacks_fitted: list[str] = Field(
        default_factory=list, description="stacks with rows in the fit; the others rest on priors"
    )
    layer_overhead_ms: float = 0.004
    pcie_latency_mult: float = 3.0
    xgmi_latency_mult: float = 1.5
    link_eff: float = 0.6
    fp8_eff: float = 0.8
    kv_eff: float = 1.0
    prefill_sync: float = 1.0
    sync_scale: float = 8.0
    gemm_p: float = 2.0
    eager_mult: float = 3.0
    mha_exp: float = 0.5
    gemm_m0: float = 32.0
    gqa_kv_eff: float = 1.0
    burst_seq_ms: float = Field(
        default=0.0, description="bursts only: API-server time per stream and step (see _fit_bursts)"
    )
    burst_prefill_mult: float = Field(
        default=1.0, description="bursts only: chunked prefill beside large decode batches, x roofline"
    )
    client_overhead_ms: float = Field(
        default=10.0, description="per request, added by the benchmark clients of CLIENT_OVERHEAD_SOURCES"
    )
    n_records: int = 0
    fit_stats: dict[str, Any] = Field(default_factory=dict)
    residual_quantiles: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {m: (-0.3, 0.3) for m in METRICS},
        description="10th and 90th percentile of out-of-fold log(truth/prediction) per metric",
    )
    evidence_bands: dict[str, dict[str, tuple[float, float]]] = Field(
        default_factory=dict,
        description="per engine family ('vllm', 'trtllm') and metric: 10th/90th percentile of log(truth / "
        "prediction) on models the fit did not see (benchmarks/accuracy.py's leave-one-model-out)",
    )
    measured_bands: dict[str, dict[str, tuple[float, float]]] = Field(
        default_factory=dict,
        description="the same on rows the fit saw: what a measured (model, GPU, stack) still misses by",
    )
    seen_configs: list[str] = Field(
        default_factory=list, description="'model|gpu|stack' with rows in the fit"
    )
    seen_gpus: list[str] = Field(default_factory=list, description="'gpu|stack' with rows in the fit")
    kernel_factors: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="per GPU: efficiencies derived from measured kernels (seed/data/kernel_tables.json)",
    )
    kernel_source: str = Field(default="", description="provenance of kernel_factors")

    def band(self, metric: str, stack: str, model: str, gpu: str) -> tuple[float, float, str]:
        """Log-space 80% band of a metric and the evidence it rests on, narrowest first:

        - ``measured``: this (model, GPU, stack) has rows in the fit: the in-sample residual band;
        - ``unmeasured model``: the GPU and stack do (the leave-one-model-out band);
        - ``unmeasured GPU``: the stack has no rows on this GPU: that band widened by
          ``UNSEEN_GPU_WIDEN`` (a prior: GPUs held out miss by about half as much again as models);
        - ``prior stack``: the stack itself has no rows: widened by ``UNSEEN_STACK_WIDEN``;
        - ``roofline fallback``: nothing measured this GPU at all (no fitted rows, no kernel tables): its
          efficiencies are its family's or the global ones, widened by ``ROOFLINE_FALLBACK_WIDEN``.
        """
        family = "vllm" if stack.startswith("vllm") else "trtllm"
        default = self.residual_quantiles.get(metric, (-0.3, 0.3))
        held = self.evidence_bands.get(family, {}).get(metric, default)
        if f"{model}|{gpu}|{stack}" in self.seen_configs:
            lo, hi = self.measured_bands.get(family, {}).get(metric, held)
            return lo, hi, "measured"
        lo, hi = held
        if self.stacks_fitted and stack not in self.stacks_fitted:
            parent = STACK_PARENT.get(stack)
            widen = UNSEEN_STACK_WIDEN[1 if parent in self.stacks_fitted else 0]
            return lo * widen, hi * widen, "prior stack"
        if self.gpu_bw_eff and gpu not in self.gpu_bw_eff and self._kernel_ratio(gpu) is None:
            return lo * ROOFLINE_FALLBACK_WIDEN, hi * ROOFLINE_FALLBACK_WIDEN, "roofline fallback"
        if self.seen_gpus and f"{gpu}|{stack}" not in self.seen_gpus:
            return lo * UNSEEN_GPU_WIDEN, hi * UNSEEN_GPU_WIDEN, "unmeasured GPU"
        return lo, hi, "unmeasured model"

    def step_basis(self, gpu: str) -> str:
        """Where a GPU's step-time efficiencies come from (see ``_efficiencies``)."""
        if gpu in self.gpu_bw_eff:
            return "calibrated roofline (fitted on this GPU's measurements)"
        if self._kernel_ratio(gpu) is not None:
            return f"measured kernels ({self.kernel_source}) scaled to the calibrated {KERNEL_REFERENCE_GPU}"
        return "roofline fallback (GPU family or global efficiencies; no measurements of this GPU)"

    def _kernel_ratio(self, gpu: str) -> tuple[float, float] | None:
        own, ref = self.kernel_factors.get(gpu), self.kernel_factors.get(KERNEL_REFERENCE_GPU)
        if not own or not ref or KERNEL_REFERENCE_GPU not in self.gpu_bw_eff:
            return None
        return own["bw_eff"] / ref["bw_eff"], own["flops_eff"] / ref["flops_eff"]

    def _efficiencies(self, gpu: str, family: str) -> tuple[float, float]:
        """Bandwidth and FLOP efficiencies: fitted on the GPU; else, for a GPU the kernel tables cover, the
        reference GPU's fitted values times the kernels' measured ratio to it; else the family's or the
        global ones (the roofline fallback)."""
        if gpu in self.gpu_bw_eff:
            return self.gpu_bw_eff[gpu], self.gpu_flops_eff.get(gpu, self.global_flops_eff)
        ratio = self._kernel_ratio(gpu)
        if ratio is not None:
            ref = KERNEL_REFERENCE_GPU
            return self.gpu_bw_eff[ref] * ratio[0], self.gpu_flops_eff.get(
                ref, self.global_flops_eff
            ) * ratio[1]
        bw = self.family_bw_eff.get(family) or self.global_bw_eff
        fl = self.family_flops_eff.get(family) or self.global_flops_eff
        return bw, fl

    def _allreduce_latency(self, gpu: str, stack: str, fitted: float) -> float:
        """Per-hop all-reduce latency: vLLM V1's custom all-reduce as measured on this GPU where the kernel
        tables cover it (a few microseconds; the fit's value rests on vLLM 0.6.3's TP rows and prior ratios,
        and made every TP > 1 step several milliseconds too slow), else the fitted stack's."""
        measured = self.kernel_factors.get(gpu, {}).get("allreduce_latency_ms_per_hop")
        return float(measured) if stack in KERNEL_ALLREDUCE_STACKS and measured else fitted

    def stack_for(self, engine: str, stack: str | None = None) -> str:
        if stack and stack in self.engines:
            return stack
        return self.engine_stack.get(engine) or self.engine_stack.get("trtllm") or "trtllm-0.9"

    def factors(
        self,
        gpu: str,
        family: str,
        engine: str,
        *,
        stack: str | None = None,
        eager: bool = False,
        client: str | None = None,
    ) -> Factors:
        """Factors for a GPU and engine; unknown GPUs use their family, then the global value."""
        name = self.stack_for(engine, stack)
        eng = self.engines.get(name) or next(iter(self.engines.values()))
        bw, fl = self._efficiencies(gpu, family)
        step = eng.step_overhead_ms
        request = eng.request_overhead_ms
        if client in CLIENT_OVERHEAD_SOURCES:
            request += self.client_overhead_ms
        if engine == "sglang":
            # No SGLang rows: published comparisons put it between vLLM and TensorRT-LLM. A prior, not a fit.
            step *= 0.8
        if eager:
            step *= self.eager_mult
        return Factors(
            bw_eff=min(bw * eng.bw_mult, 0.98),
            flops_eff=min(fl * eng.flops_mult, 0.95),
            fp8_eff=self.fp8_eff,
            step_overhead_ms=step,
            layer_overhead_ms=self.layer_overhead_ms * (self.eager_mult if eager else 1.0),
            seq_overhead_ms=eng.seq_overhead_ms,
            moe_eff=min(eng.moe_mult, 1.5),
            allreduce_latency_ms=self._allreduce_latency(gpu, name, eng.allreduce_latency_ms),
            pcie_latency_mult=self.pcie_latency_mult,
            xgmi_latency_mult=self.xgmi_latency_mult,
            request_overhead_ms=request,
            link_eff=self.link_eff,
            gemm_p=self.gemm_p,
            kv_eff=self.kv_eff,
            prefill_sync=self.prefill_sync,
            sync_scale=self.sync_scale,
            mha_exp=self.mha_exp,
            gemm_m0=self.gemm_m0,
            gqa_kv_eff=self.gqa_kv_eff,
            burst_seq_ms=self.burst_seq_ms,
            burst_prefill_mult=self.burst_prefill_mult,
        )


# --- vectorised evaluation -------------------------------------------------------------------------------


def _stack_raw(cases: Sequence[Case]) -> RawCosts:
    fields = RawCosts.__dataclass_fields__
    return RawCosts(**{k: np.array([getattr(c.raw, k) for c in cases], dtype=float) for k in fields})


@dataclass
class _Design:
    cases: list[Case]
    raw: RawCosts
    gpu_idx: np.ndarray
    fam_idx: np.ndarray
    stack_idx: np.ndarray
    eager: np.ndarray
    gpus: list[str]
    fams: list[str]
    batch: np.ndarray
    inp: np.ndarray
    out: np.ndarray
    rate: np.ndarray
    n_prompts: np.ndarray
    max_batch: np.ndarray
    budget: np.ndarray
    scen: np.ndarray
    truth: dict[str, np.ndarray]
    weight: dict[str, np.ndarray]
    out_cv: np.ndarray
    arrival_cv: np.ndarray
    cached: np.ndarray
    client: np.ndarray  # 1.0 where the source's client adds its own per-request time


def _design(cases: Sequence[Case], gpus: list[str], fams: list[str]) -> _Design:
    cl = list(cases)
    truth = {m: np.array([c.truth.get(m, np.nan) for c in cl]) for m in METRICS}
    weight: dict[str, np.ndarray] = {}
    sources = np.array([c.source for c in cl])
    for m in METRICS:
        w = np.zeros(len(cl))
        has = ~np.isnan(truth[m])
        for s in set(sources):
            sel = has & (sources == s)
            if sel.any():
                # Each source and metric weighs as its mean squared log error, whatever its row count,
                # damped for tiny sources so a handful of rows cannot dominate.
                n = int(sel.sum())
                w[sel] = math.sqrt(min(1.0, n / 30.0) / n)
        # Bursts (hundreds of requests at once) are scored, not fitted: their model is the crudest (MoE and
        # 4-bit kernels at batches of hundreds run far below the roofline), and fitted they drag the V1
        # stack's factors away from what moderate loads, the planner's regime, measure.
        weight[m] = w * np.where(np.array([c.scenario == "burst" for c in cl]), 0.0, 1.0)
    return _Design(
        cases=cl,
        raw=_stack_raw(cl),
        gpu_idx=np.array([gpus.index(c.gpu) if c.gpu in gpus else -1 for c in cl]),
        fam_idx=np.array([fams.index(c.family) if c.family in fams else -1 for c in cl]),
        stack_idx=np.array([STACKS.index(c.stack) if c.stack in STACKS else 0 for c in cl]),
        eager=np.array([1.0 if c.eager else 0.0 for c in cl]),
        gpus=gpus,
        fams=fams,
        batch=np.array([c.batch for c in cl]),
        inp=np.array([c.inp for c in cl]),
        out=np.array([c.out for c in cl]),
        rate=np.array([c.rate for c in cl]),
        n_prompts=np.array([c.n_prompts for c in cl]),
        max_batch=np.array([c.max_batch for c in cl]),
        budget=np.array([c.budget for c in cl]),
        scen=np.array([SCENARIOS[c.scenario] for c in cl]),
        truth=truth,
        weight=weight,
        out_cv=np.array([c.out_cv for c in cl]),
        arrival_cv=np.array([c.arrival_cv for c in cl]),
        cached=np.array([c.cached for c in cl]),
        client=np.array([1.0 if c.source in CLIENT_OVERHEAD_SOURCES else 0.0 for c in cl]),
    )


_MISC = (
    "layer_overhead_ms",
    "pcie_latency_mult",
    "xgmi_latency_mult",
    "link_eff",
    "fp8_eff",
    "kv_eff",
    "prefill_sync",
    "sync_scale",
    "gemm_p",
    "eager_mult",
    "mha_exp",
    "gemm_m0",
    "gqa_kv_eff",
    "client_overhead_ms",
)
# Measurement sources whose client adds its own per-request time on top of the server's: ``vllm bench serve``
# against the chat completions endpoint (chat template, request building) in GPUStack's reports. A fitted
# additive term (prior 10 ms), so that this client's TTFTs do not set the server's own per-request overhead.
CLIENT_OVERHEAD_SOURCES = ("gpustack_perflab",)
# Shared priors. layer_overhead_ms: with CUDA/HIP graphs a layer's launch gaps and small kernels (norms,
# rotary, residual adds) cost a few microseconds, the same for every graph-capturing engine; one shared
# value (narrow prior) so that a stack's large per-step costs cannot be recast as per-layer ones. The link
# latency multipliers: small all-reduces over PCIe go through the host bridge or a PCIe switch, ~3x
# NVLink's latency; MI300X's xGMI mesh is direct but RCCL's small-message latency is ~1.5x NCCL's on NVLink.
# prefill_sync is pinned at 1 (the lockstep cohort wait is the chunk structure itself, perf.closed_loop);
# sync_scale, the cohort prefill steps past which cohorts split up, is the one fitted lockstep parameter.
_MISC_PRIOR = np.log([0.004, 3.0, 1.5, 0.6, 0.8, 1.0, 1.0, 8.0, 2.0, 3.0, 0.5, 32.0, 1.0, 10.0])
_MISC_SD = np.array([0.4, 0.5, 0.5, 0.5, 0.5, 0.5, 0.02, 1.0, 0.5, 0.7, 0.5, 1.0, 0.5, 1.0])
_RIDGE = 0.003  # a one-sd move of a parameter costs as much as 0.3% of mean squared log error


class _Params:
    """Layout of the parameter vector (log-space)."""

    def __init__(self, gpus: list[str], fams: list[str], stacks_seen: set[str]) -> None:
        self.gpus, self.fams = gpus, fams
        self.n_g, self.n_f = len(gpus), len(fams)
        self.stacks_seen = stacks_seen
        i = 0
        self.glob = slice(i, i + 2)
        i += 2
        self.fam = slice(i, i + 2 * self.n_f)
        i += 2 * self.n_f
        self.gpu = slice(i, i + 2 * self.n_g)
        i += 2 * self.n_g
        self.eng = slice(i, i + len(_STACK_FIELDS) * len(STACKS))
        i += len(_STACK_FIELDS) * len(STACKS)
        self.misc = slice(i, i + len(_MISC))
        i += len(_MISC)
        self.size = i
        self.fam_of_gpu: dict[str, str] = {}

    def initial(self) -> np.ndarray:
        x = np.zeros(self.size)
        x[self.glob] = [math.log(0.75), math.log(0.55)]
        x[self.eng] = np.log(np.array([_STACK_PRIOR[s] for s in STACKS])).ravel()
        x[self.misc] = _MISC_PRIOR
        return x

    def penalties(self, x: np.ndarray) -> np.ndarray:
        fam = x[self.fam] / 0.3
        gpu = x[self.gpu] / 0.2
        n_f = len(_STACK_FIELDS)
        eng = x[self.eng].reshape(len(STACKS), n_f)
        init = self.initial()[self.eng].reshape(len(STACKS), n_f)
        parts = [fam, gpu]
        for k, name in enumerate(STACKS):
            seen = name in self.stacks_seen
            dev = eng[k] - init[k]
            # An unseen stack stays at its prior (it inherits its parent's fit when the calibration is
            # stored).
            # The reference stack fixes the scale of the efficiencies (multipliers 1).
            mult_sd = 0.01 if k == 0 or not seen else 0.3
            # Streaming weights is the same memcpy-like kernel work in every engine, so a stack's bandwidth
            # multiplier stays near its prior. Otherwise a GPU seen only with one stack (MI300X, vLLM) or a
            # TP-only cost (vLLM's 405B rows) is recast as slower streaming, which leaks into every TP=1
            # prediction of that stack.
            bw_sd = 0.01 if k == 0 or not seen else 0.1
            # vLLM rows are all TP 4/8 of one model: the per-step constant and the all-reduce latency are
            # nearly collinear there, so the constant keeps near its prior and the all-reduce takes the rest.
            step_sd = 0.01 if not seen else (0.3 if name.startswith("vllm") else 1.5)
            # per seq, all-reduce, per request, MoE streaming
            free = (1.5, 0.7, 0.5, 0.5) if seen else (0.01, 0.01, 0.01, 0.01)
            if seen and name == "vllm-v1":
                # V1's rows are mostly bursts of hundreds of requests whose misfit (MoE and 4-bit kernels
                # at large batches) would otherwise be recast as host cost per sequence or slow GEMMs and
                # leak into every moderate-load prediction: both stay near their priors.
                free = (0.4, 0.7, 0.5, 0.5)
                mult_sd = 0.1
            sds = (step_sd, bw_sd, mult_sd, *free)
            parts.append(dev / np.array(sds))
        parts.append((x[self.misc] - _MISC_PRIOR) / _MISC_SD)
        return np.concatenate(parts) * math.sqrt(_RIDGE)

    def factors(self, x: np.ndarray, d: _Design, burst: tuple[float, float] = (0.0, 1.0)) -> Factors:
        g2 = x[self.gpu].reshape(max(self.n_g, 1), 2) if self.n_g else np.zeros((1, 2))
        f2 = x[self.fam].reshape(max(self.n_f, 1), 2) if self.n_f else np.zeros((1, 2))
        gsel = np.where(d.gpu_idx[:, None] >= 0, g2[np.maximum(d.gpu_idx, 0)], 0.0)
        fsel = np.where(d.fam_idx[:, None] >= 0, f2[np.maximum(d.fam_idx, 0)], 0.0)
        eng = x[self.eng].reshape(len(STACKS), len(_STACK_FIELDS))[d.stack_idx]
        log_bw = x[self.glob][0] + fsel[:, 0] + gsel[:, 0] + eng[:, 1]
        log_fl = x[self.glob][1] + fsel[:, 1] + gsel[:, 1] + eng[:, 2]
        misc = dict(zip(_MISC, np.exp(x[self.misc]), strict=True))
        eager = np.where(d.eager > 0, misc["eager_mult"], 1.0)
        return Factors(
            bw_eff=np.minimum(np.exp(log_bw), 0.98),
            flops_eff=np.minimum(np.exp(log_fl), 0.95),
            step_overhead_ms=np.exp(eng[:, 0]) * eager,
            layer_overhead_ms=float(misc["layer_overhead_ms"]) * eager,
            seq_overhead_ms=np.exp(eng[:, 3]),
            allreduce_latency_ms=np.exp(eng[:, 4]),
            request_overhead_ms=np.exp(eng[:, 5]) + d.client * float(misc["client_overhead_ms"]),
            moe_eff=np.minimum(np.exp(eng[:, 6]), 1.5),
            pcie_latency_mult=float(misc["pcie_latency_mult"]),
            xgmi_latency_mult=float(misc["xgmi_latency_mult"]),
            link_eff=float(min(misc["link_eff"], 1.0)),
            fp8_eff=float(min(misc["fp8_eff"], 1.2)),
            kv_eff=float(misc["kv_eff"]),
            prefill_sync=float(min(misc["prefill_sync"], 3.0)),
            sync_scale=float(misc["sync_scale"]),
            gemm_p=float(min(max(misc["gemm_p"], 1.0), 8.0)),
            mha_exp=float(min(misc["mha_exp"], 1.0)),
            gemm_m0=float(misc["gemm_m0"]),
            gqa_kv_eff=float(misc["gqa_kv_eff"]),
            burst_seq_ms=burst[0],
            burst_prefill_mult=burst[1],
        )


def predict_cases(raw: RawCosts, f: Factors, d: _Design) -> dict[str, np.ndarray]:
    """Closed-form predictions for every case (the same ``steady_state`` that ``predict`` reports)."""
    return steady_state(
        raw,
        f,
        d.scen,
        d.batch,
        d.inp,
        d.out,
        d.rate,
        d.max_batch,
        d.budget,
        d.n_prompts,
        d.arrival_cv,
        d.out_cv,
        d.cached,
    )


def _residuals(x: np.ndarray, p: _Params, d: _Design) -> np.ndarray:
    with np.errstate(all="ignore"):
        pred = predict_cases(d.raw, p.factors(x, d), d)
    parts = []
    for m in METRICS:
        has = d.weight[m] > 0
        v = np.nan_to_num(pred[m][has], nan=1e9, posinf=1e9)
        r = np.log(np.clip(v, 1e-9, 1e12) / d.truth[m][has])
        # Soft-clip huge misses (queue blow-ups) so a few rows cannot steer every factor.
        r = 2.0 * np.tanh(r / 2.0)
        parts.append(r * d.weight[m][has])
    parts.append(p.penalties(x))
    return np.concatenate(parts)


def _solve(
    fun: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, iters: int = 40
) -> tuple[np.ndarray, float]:
    """Least squares on the residual vector (trust-region reflective, finite-difference Jacobian).

    ``iters`` bounds the Jacobian evaluations (each costs one residual evaluation per parameter).
    """
    res = least_squares(fun, x0, method="trf", x_scale="jac", max_nfev=iters * 2, diff_step=1e-4)
    r = fun(res.x)
    return res.x, float(r @ r)


# Burst-only terms (``model.burst``), fitted after everything else on the bursts alone, in log space:
# priors (mean, sd). API-server time per stream and step: ~30 us (V1's output processing in Python:
# incremental detokenising and one server-sent event per token and stream); chunked prefill beside large
# decode batches: the roofline's (multiplier 1).
_BURST_PRIOR = np.log([0.03, 1.0])
_BURST_SD = np.array([1.5, 0.7])
_BURST_METRICS = ("tpot_ms", "output_tokens_per_s")


def _fit_bursts(x: np.ndarray, p: _Params, cases: Sequence[Case]) -> tuple[float, float]:
    """Fit the burst-only terms on the bursts, with every other factor held at its fitted value.

    A second stage, so that bursts (hundreds of requests at once, paced by the API server and by prefill
    chunks packed beside hundreds of decodes) cannot move the factors moderate loads measure; without
    bursts in the fit the terms keep their priors.
    """
    bursts = [c for c in cases if c.scenario == "burst" and any(m in c.truth for m in _BURST_METRICS)]
    if not bursts:
        return float(math.exp(_BURST_PRIOR[0])), float(math.exp(_BURST_PRIOR[1]))
    d = _design(bursts, p.gpus, p.fams)
    truth = {m: np.array([c.truth.get(m, np.nan) for c in bursts]) for m in _BURST_METRICS}
    scale = 1.0 / math.sqrt(len(bursts))

    def residuals(v: np.ndarray) -> np.ndarray:
        fe, pm = np.exp(v)
        with np.errstate(all="ignore"):
            pred = predict_cases(d.raw, p.factors(x, d, (float(fe), float(pm))), d)
        parts = []
        for m in _BURST_METRICS:
            has = ~np.isnan(truth[m])
            r = np.log(np.clip(np.nan_to_num(pred[m][has], nan=1e9), 1e-9, 1e12) / truth[m][has])
            parts.append(2.0 * np.tanh(r / 2.0) * scale)
        parts.append((v - _BURST_PRIOR) / _BURST_SD * math.sqrt(_RIDGE))
        return np.concatenate(parts)

    res = least_squares(residuals, _BURST_PRIOR.copy(), method="trf", max_nfev=60, diff_step=1e-4)
    return float(math.exp(res.x[0])), float(math.exp(res.x[1]))


def _stack_row(eng: np.ndarray, name: str, seen: set[str]) -> np.ndarray:
    """A stack's fitted log-factors. A stack without rows in the fit takes its parent's (``STACK_PARENT``,
    else the reference stack) scaled by the prior ratio between the two, so it inherits what the data taught.
    """
    k = STACKS.index(name)
    if name in seen or k == 0:
        return np.asarray(eng[k])
    parent = STACK_PARENT.get(name, STACKS[0])
    ratio = np.log(np.array(_STACK_PRIOR[name]) / np.array(_STACK_PRIOR[parent]))
    return np.asarray(_stack_row(eng, parent, seen) + ratio)


def _stack_factors(row: np.ndarray) -> EngineFactors:
    return EngineFactors(**{f: float(math.exp(v)) for f, v in zip(_STACK_FIELDS, row, strict=True)})


def _to_calibration(x: np.ndarray, p: _Params, n: int) -> Calibration:
    g2 = x[p.gpu].reshape(p.n_g, 2) if p.n_g else np.zeros((0, 2))
    f2 = x[p.fam].reshape(p.n_f, 2) if p.n_f else np.zeros((0, 2))
    glob = x[p.glob]
    eng = x[p.eng].reshape(len(STACKS), len(_STACK_FIELDS))
    misc = dict(zip(_MISC, np.exp(x[p.misc]), strict=True))
    cal = Calibration(
        global_bw_eff=float(math.exp(glob[0])),
        global_flops_eff=float(math.exp(glob[1])),
        family_bw_eff={f: float(math.exp(glob[0] + f2[i, 0])) for i, f in enumerate(p.fams)},
        family_flops_eff={f: float(math.exp(glob[1] + f2[i, 1])) for i, f in enumerate(p.fams)},
        gpu_bw_eff={},
        gpu_flops_eff={},
        engines={e: _stack_factors(_stack_row(eng, e, p.stacks_seen)) for e in STACKS},
        stacks_fitted=sorted(p.stacks_seen),
        layer_overhead_ms=float(misc["layer_overhead_ms"]),
        pcie_latency_mult=float(misc["pcie_latency_mult"]),
        xgmi_latency_mult=float(misc["xgmi_latency_mult"]),
        link_eff=float(min(misc["link_eff"], 1.0)),
        fp8_eff=float(min(misc["fp8_eff"], 1.2)),
        kv_eff=float(misc["kv_eff"]),
        prefill_sync=float(min(misc["prefill_sync"], 3.0)),
        sync_scale=float(misc["sync_scale"]),
        gemm_p=float(min(max(misc["gemm_p"], 1.0), 8.0)),
        eager_mult=float(misc["eager_mult"]),
        mha_exp=float(min(misc["mha_exp"], 1.0)),
        gemm_m0=float(misc["gemm_m0"]),
        gqa_kv_eff=float(misc["gqa_kv_eff"]),
        client_overhead_ms=float(misc["client_overhead_ms"]),
        n_records=n,
    )
    for i, gname in enumerate(p.gpus):
        fi = p.fams.index(p.fam_of_gpu[gname]) if gname in p.fam_of_gpu else None
        fb = f2[fi, 0] if fi is not None else 0.0
        ff = f2[fi, 1] if fi is not None else 0.0
        cal.gpu_bw_eff[gname] = float(math.exp(glob[0] + fb + g2[i, 0]))
        cal.gpu_flops_eff[gname] = float(math.exp(glob[1] + ff + g2[i, 1]))
    return cal


def _fit_once(
    cases: Sequence[Case], x0: np.ndarray | None = None, iters: int = 40
) -> tuple[Calibration, np.ndarray]:
    gpus = sorted({c.gpu for c in cases})
    fams = sorted({c.family for c in cases})
    p = _Params(gpus, fams, {c.stack for c in cases})
    p.fam_of_gpu = {c.gpu: c.family for c in cases}
    d = _design(cases, gpus, fams)
    start = p.initial() if x0 is None or len(x0) != p.size else x0
    x, cost = _solve(lambda v: _residuals(v, p, d), start, iters)
    cal = _to_calibration(x, p, len(cases))
    burst = _fit_bursts(x, p, cases)
    cal.burst_seq_ms, cal.burst_prefill_mult = burst
    pred = predict_cases(d.raw, p.factors(x, d, burst), d)
    stats: dict[str, Any] = {
        "cost": cost,
        "rows": len(cases),
        "vllm_rows": sum(1 for c in cases if c.engine == "vllm"),
    }
    for m in METRICS:
        has = ~np.isnan(d.truth[m])
        if has.any():
            ape = np.abs(pred[m][has] / d.truth[m][has] - 1.0)
            stats[f"in_sample_mdape_{m}"] = float(np.median(ape))
    cal.fit_stats = stats
    return cal, x


def predict_with(cal: Calibration, cases: Sequence[Case]) -> dict[str, np.ndarray]:
    """Closed-form predictions for cases using a calibration (GPU/family fallbacks applied)."""
    if not cases:
        return {m: np.array([]) for m in METRICS}
    d = _design(cases, [], [])
    fac = [
        cal.factors(c.gpu, c.family, c.engine, stack=c.stack, eager=c.eager, client=c.source) for c in cases
    ]
    arr = Factors(**{k: np.array([getattr(f, k) for f in fac]) for k in Factors.__dataclass_fields__})
    return predict_cases(d.raw, arr, d)


def engine_family(stack: str) -> str:
    """'vllm' or 'trtllm': the families whose errors differ (and whose interval bands are kept apart)."""
    return "vllm" if stack.startswith("vllm") else "trtllm"


def log_residuals(cal: Calibration, cases: Sequence[Case]) -> list[tuple[Case, str, float]]:
    """(case, metric, log(truth / prediction)) of every scored value."""
    pred = predict_with(cal, cases)
    out: list[tuple[Case, str, float]] = []
    for m in METRICS:
        for c, v in zip(cases, pred[m], strict=True):
            if m in c.truth and v > 0 and np.isfinite(v):
                out.append((c, m, math.log(c.truth[m] / v)))
    return out


def bands_of(residuals: Sequence[tuple[Case, str, float]]) -> dict[str, dict[str, tuple[float, float]]]:
    """10th/90th percentiles of log residuals per engine family and metric (families with enough rows)."""
    pooled: dict[str, dict[str, list[float]]] = {}
    for c, m, r in residuals:
        pooled.setdefault(engine_family(c.stack), {}).setdefault(m, []).append(r)
    return {
        fam: {
            m: (float(np.percentile(v, 10)), float(np.percentile(v, 90)))
            for m, v in per.items()
            if len(v) >= MIN_GROUP_ROWS
        }
        for fam, per in sorted(pooled.items())
    }


def fit_vector(
    cases: Sequence[Case], *, iters: int = 40, start: np.ndarray | None = None
) -> tuple[Calibration, np.ndarray]:
    """Fit on all cases (warm-started from ``start`` when its layout matches) and record the evidence: which
    (model, GPU, stack) and (GPU, stack) have rows, and the in-sample band of what measured ones still miss.

    The bands for unmeasured models come from held-out residuals, which only a cross-validation can give:
    ``benchmarks/accuracy.py`` computes them (leave one model out) and stores them with ``--write``.
    """
    cal, x = _fit_once(cases, x0=start, iters=iters)
    cal.seen_configs = sorted({f"{c.model}|{c.gpu}|{c.stack}" for c in cases})
    cal.seen_gpus = sorted({f"{c.gpu}|{c.stack}" for c in cases})
    cal.measured_bands = bands_of(log_residuals(cal, cases))
    return cal, x


def fit(cases: Sequence[Case], *, folds: int = 0, iters: int = 40) -> Calibration:
    """Fit on all cases; with ``folds`` >= 2 also the unmeasured-model bands, from out-of-fold residuals of
    folds grouped by model (``benchmarks/accuracy.py`` sets them from a full leave-one-model-out instead)."""
    cal, x = fit_vector(cases, iters=iters)
    models = sorted({c.model for c in cases})
    if len(models) < 2 or folds < 2:
        return cal
    groups = {m: i % folds for i, m in enumerate(models)}
    residuals: list[tuple[Case, str, float]] = []
    for k in range(min(folds, len(models))):
        train = [c for c in cases if groups[c.model] != k]
        test = [c for c in cases if groups[c.model] == k]
        if train and test:
            sub, _ = fit_vector(train, iters=max(iters // 2, 8), start=x)
            residuals += log_residuals(sub, test)
    cal.evidence_bands = bands_of(residuals)
    cal.fit_stats["oof_rows"] = len(residuals)
    return cal


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
