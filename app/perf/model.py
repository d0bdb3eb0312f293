"""Step times and serving dynamics: the physics half of the performance model.

Layers:
1. ``raw_costs``: bytes, FLOPs and communication volumes of one rank, from the architecture (no tuning).
2. ``step_ms``: time of one engine step with ``d`` decoding sequences (summed context ``C``) and ``p``
   prefill tokens, from datasheet peaks × efficiency ``Factors`` (calibrated per GPU and engine). It is
   written once for floats and numpy arrays, so calibration and screening evaluate it vectorised.
3. Closed-form steady states (static batch, offline, closed loop, open loop) for screening.
4. ``simulate``: a discrete-event simulation of continuous batching with chunked prefill that skips
   decode-only stretches in closed form, for percentiles under closed-loop and Poisson/gamma arrivals.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.perf.memory import WEIGHT_BYTES, kv_bytes_per_token_layer, param_counts
from app.perf.types import GpuSpec, ModelArch, Stats

Num = Any  # float or numpy array: every formula below works for both


@dataclass(frozen=True)
class Factors:
    """Efficiency factors of one (GPU, engine). Defaults are priors used before calibration.

    Host overheads are split the way the work happens on a real server, so that one configuration's
    overhead cannot leak into another's (calibrate.py documents each prior):
    - ``step_overhead_ms``: once per engine step (scheduler, sampling, input preparation): per software stack;
    - ``layer_overhead_ms``: per layer per step (kernel launch gaps, norms); small under CUDA graphs;
    - ``allreduce_latency_ms``: per all-reduce call and latency step (log2 tp), only when TP > 1, scaled by
      the link's latency multiplier (PCIe, xGMI) relative to NVLink;
    - ``request_overhead_ms``: once per request, off the GPU (HTTP, tokenisation, queueing into the engine,
      detokenisation of the first token): added to TTFT and E2E of online scenarios only.
    """

    bw_eff: Num = 0.75  # achieved / datasheet memory bandwidth when streaming weights and KV
    flops_eff: Num = 0.55  # achieved / dense tensor peak in GEMMs
    fp8_eff: Num = 0.8  # extra multiplier on flops_eff when GEMMs run in FP8
    step_overhead_ms: Num = 1.0  # scheduler, sampling, launch per engine step
    seq_overhead_ms: Num = (
        0.0  # host work per decoding sequence and step (scheduling, sampling, detokenising)
    )
    layer_overhead_ms: Num = 0.004  # per layer per step (kernel launches, norms, small ops)
    allreduce_latency_ms: Num = 0.01  # per all-reduce call and latency step (log2 tp steps), NVLink
    pcie_latency_mult: Num = 3.0  # all-reduce latency over PCIe relative to NVLink
    xgmi_latency_mult: Num = 1.5  # all-reduce latency over AMD Infinity Fabric (xGMI) relative to NVLink
    request_overhead_ms: Num = 0.0  # per request, off the GPU (HTTP, tokenisation, detokenisation)
    link_eff: Num = 0.6  # achieved / datasheet link bandwidth in all-reduce
    gemm_p: Num = 2.0  # smooth-max exponent between weight streaming and compute
    kv_eff: Num = 1.0  # attention kernels' bandwidth relative to weight streaming
    prefill_sync: Num = 1.0  # multiplier on a lockstep cohort's chunked-prefill wait (closed loop)
    sync_scale: Num = 8.0  # cohort prefill steps past which lockstep cohorts split up (wait ~ sqrt)
    mha_exp: Num = 0.5  # see step_ms: KV reread exponent of the MHA fallback kernel
    gemm_m0: Num = 32.0  # GEMM rows at which tensor-core efficiency reaches half its sustained value
    gqa_kv_eff: Num = 1.0  # KV streaming efficiency of grouped-query kernels relative to MHA ones
    moe_eff: Num = 1.0  # routed-expert weight streaming relative to dense GEMMs (few rows per expert)
    # Burst-only terms (``burst``: hundreds of requests submitted at once), fitted on bursts alone so that
    # they cannot move what moderate loads measure:
    burst_seq_ms: Num = 0.0  # per decoding sequence and step beyond seq_overhead_ms (streams, detokenising)
    burst_prefill_mult: Num = 1.0  # chunked prefill mixed into large decode batches, relative to the roofline


@dataclass(frozen=True)
class RawCosts:
    """Per-rank costs of one configuration; fields are floats or equal-length numpy arrays."""

    bw: Num  # bytes per ms (datasheet)
    fl: Num  # FLOP per ms (datasheet dense peak at the GEMM precision)
    fp8: Num  # 1.0 when GEMMs run in FP8
    w_dense: Num  # bytes read per step outside routed experts (attention, dense MLP, shared, lm_head)
    w_expert: Num  # bytes of one routed expert in one layer
    n_moe: Num  # MoE layers
    n_exp: Num  # routed experts (1 for dense models)
    top_k: Num  # experts per token (1 for dense models)
    flops_tok: Num  # linear-layer FLOPs per token
    attn_flops_ctx: Num  # attention FLOPs per token per context token
    kv_full: Num  # KV bytes per context token in full-attention layers
    kv_slide: Num  # KV bytes per context token in sliding-window layers
    window: Num  # sliding window (tokens)
    n_layers: Num
    n_ar: Num  # all-reduce calls per step (0 without TP)
    ar_hops: Num  # latency-bound steps of one all-reduce (log2 tp, recursive halving-doubling)
    kv_log_group: Num  # log(query heads per KV head) where the engine's attention rereads KV per query head
    gqa: Num  # 1.0 when several query heads share a KV head (grouped-query kernels), else 0.0
    comm_tok: Num  # bytes each rank moves per token per all-reduce (ring factor included)
    link: Num  # link bytes per ms
    link_pcie: Num = 0.0  # 1.0 when the TP group talks over PCIe
    link_xgmi: Num = 0.0  # 1.0 when the TP group talks over AMD Infinity Fabric (xGMI)


def gemm_precision(precision: str) -> str:
    """Precision the GEMMs run in: int4 weight-only kernels dequantise to 16-bit."""
    return "fp8" if precision == "fp8" else "int8" if precision == "int8" else "bf16"


def raw_costs(
    arch: ModelArch, gpu: GpuSpec, tp: int, precision: str, kv_dtype_bytes: float = 2.0
) -> RawCosts:
    """Bytes and FLOPs of one rank, from the architecture and the datasheet."""
    pc = param_counts(arch)
    wb = WEIGHT_BYTES[precision]
    head = (pc.lm_head or pc.embedding) * 2.0  # lm_head stays 16-bit; tied models read the embedding
    w_dense = ((pc.attention + pc.dense_mlp) * wb + head + pc.norms * 2.0) / tp
    heads_rank = arch.num_attention_heads / tp
    per_layer_kv = kv_bytes_per_token_layer(arch, tp, kv_dtype_bytes)
    sliding = arch.n_sliding_layers
    gp = gemm_precision(precision)
    ring = 2.0 * (tp - 1) / tp if tp > 1 else 0.0
    return RawCosts(
        bw=gpu.mem_bw_tb_s * 1e9,
        fl=gpu.tensor_tflops(gp) * 1e9,
        fp8=1.0 if gp == "fp8" and gpu.fp8_tflops else 0.0,
        w_dense=w_dense,
        w_expert=pc.expert * wb / tp,
        n_moe=float(pc.n_moe_layers),
        n_exp=float(arch.num_experts or 1),
        top_k=float(arch.num_experts_per_tok or 1),
        flops_tok=2.0 * (pc.active - pc.embedding + (pc.embedding if pc.lm_head == 0 else 0)) / tp,
        attn_flops_ctx=4.0 * arch.num_hidden_layers * heads_rank * arch.attn_head_dim,
        kv_full=per_layer_kv * (arch.num_hidden_layers - sliding),
        kv_slide=per_layer_kv * sliding,
        window=float(arch.sliding_window or 0),
        n_layers=float(arch.num_hidden_layers),
        n_ar=float(2 * arch.num_hidden_layers if tp > 1 else 0),
        ar_hops=math.log2(tp),
        kv_log_group=0.0,
        gqa=1.0 if arch.is_mla or arch.num_attention_heads > arch.num_key_value_heads else 0.0,
        comm_tok=arch.hidden_size * 2.0 * ring,
        link=gpu.interconnect_gb_s * 1e6,
        link_pcie=1.0 if gpu.interconnect in ("pcie", "none") else 0.0,
        link_xgmi=1.0 if gpu.interconnect == "xgmi" else 0.0,
    )


def busy_f(tokens: Num) -> Num:
    """1.0 where a step has any token, else 0.0 (floats or arrays)."""
    if isinstance(tokens, np.ndarray):
        return (tokens > 0).astype(float)
    return 1.0 if tokens > 0 else 0.0


def _minimum(a: Num, b: Num) -> Num:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.minimum(a, b)
    return min(a, b)


def step_ms(raw: RawCosts, f: Factors, d: Num, ctx: Num, p: Num = 0.0, s2: Num = 0.0) -> Num:
    """Time of one engine step in ms.

    d: decoding sequences; ctx: their summed context tokens; p: prefill tokens in the step; s2: sum over the
    prefill chunks of (tokens × attended context) / 1, i.e. the causal attention work of the prefill.
    Returns 0 for an empty step.
    """
    bw = raw.bw * f.bw_eff
    fl = raw.fl * f.flops_eff * (1.0 + raw.fp8 * (f.fp8_eff - 1.0))
    tokens = d + p
    touched = raw.n_exp * (1.0 - (1.0 - raw.top_k / raw.n_exp) ** tokens)
    t_w = (raw.w_dense + raw.n_moe * raw.w_expert * touched / f.moe_eff) / bw
    # Tensor cores reach their sustained rate only on tall GEMMs: efficiency saturates as
    # tokens / (tokens + m0), i.e. a GEMM of ``tokens`` rows costs as much as ``tokens + m0`` at full rate.
    t_c = ((tokens + f.gemm_m0 * busy_f(tokens)) * raw.flops_tok + (s2 + ctx) * raw.attn_flops_ctx) / fl
    t_gemm = (t_w**f.gemm_p + t_c**f.gemm_p) ** (1.0 / f.gemm_p)
    # A multi-head attention kernel serving grouped queries rereads each KV head once per query head; the
    # L2 cache absorbs part of it: DRAM traffic grows as group ** mha_exp (0: none, 1: every reread).
    # Grouped-query attention kernels stream the KV at their own efficiency (fitted relative to MHA kernels).
    reread = np.exp(f.mha_exp * raw.kv_log_group) / (1.0 + raw.gqa * (f.gqa_kv_eff - 1.0))
    t_kv = (raw.kv_full * ctx + raw.kv_slide * _minimum(ctx, d * raw.window)) * reread / (bw * f.kv_eff)
    t_ar = tokens * raw.comm_tok / (raw.link * f.link_eff)
    # n_ar is 0 without TP, so the all-reduce latency (and its link multiplier) only exists when TP > 1.
    lat_mult = 1.0 + raw.link_pcie * (f.pcie_latency_mult - 1.0) + raw.link_xgmi * (f.xgmi_latency_mult - 1.0)
    t_comm = raw.n_ar * (f.allreduce_latency_ms * lat_mult * raw.ar_hops + t_ar)
    busy = tokens > 0
    host = f.step_overhead_ms + raw.n_layers * f.layer_overhead_ms + f.seq_overhead_ms * d
    return (host + t_gemm + t_kv + t_comm) * busy


def scalar_step(raw: RawCosts, f: Factors) -> Callable[[float, float, float, float], float]:
    """``step_ms`` for one configuration and float arguments, with its constants folded once.

    The simulation evaluates thousands of single steps; numpy's per-call overhead dominates there. This is
    the same formula (a unit test holds them equal), in plain floats.
    """
    bw = float(raw.bw * f.bw_eff)
    fl = float(raw.fl * f.flops_eff * (1.0 + raw.fp8 * (f.fp8_eff - 1.0)))
    n_exp, q = float(raw.n_exp), 1.0 - float(raw.top_k) / float(raw.n_exp)
    w_dense = float(raw.w_dense) / bw
    w_expert = float(raw.n_moe * raw.w_expert) / (bw * float(f.moe_eff))
    m0, per_tok, per_ctx = float(f.gemm_m0), float(raw.flops_tok) / fl, float(raw.attn_flops_ctx) / fl
    gp = float(f.gemm_p)
    reread = math.exp(float(f.mha_exp * raw.kv_log_group)) / (1.0 + float(raw.gqa * (f.gqa_kv_eff - 1.0)))
    kv_full = float(raw.kv_full) * reread / (bw * float(f.kv_eff))
    kv_slide = float(raw.kv_slide) * reread / (bw * float(f.kv_eff))
    window = float(raw.window)
    lat_mult = 1.0 + float(
        raw.link_pcie * (f.pcie_latency_mult - 1.0) + raw.link_xgmi * (f.xgmi_latency_mult - 1.0)
    )
    n_ar, ar_fixed = float(raw.n_ar), float(f.allreduce_latency_ms) * lat_mult * float(raw.ar_hops)
    ar_tok = float(raw.comm_tok) / (float(raw.link) * float(f.link_eff))
    host, seq = float(f.step_overhead_ms + raw.n_layers * f.layer_overhead_ms), float(f.seq_overhead_ms)

    def step(d: float, ctx: float, p: float, s2: float) -> float:
        tokens = d + p
        if tokens <= 0:
            return 0.0
        t_w = w_dense + w_expert * n_exp * (1.0 - q**tokens)
        t_c = (tokens + m0) * per_tok + (s2 + ctx) * per_ctx
        t_gemm = (t_w**gp + t_c**gp) ** (1.0 / gp)
        t_kv = kv_full * ctx + kv_slide * min(ctx, d * window)
        return host + seq * d + t_gemm + t_kv + n_ar * (ar_fixed + tokens * ar_tok)

    return step


def prefill_ms(raw: RawCosts, f: Factors, batch: Num, prompt: Num) -> Num:
    """Prefill of ``batch`` prompts of ``prompt`` tokens in one step (static batching)."""
    return step_ms(raw, f, 0.0, 0.0, batch * prompt, batch * prompt * prompt / 2.0)


def decode_ms(raw: RawCosts, f: Factors, batch: Num, context: Num) -> Num:
    """One decode step of ``batch`` sequences at ``context`` tokens each."""
    return step_ms(raw, f, batch, batch * context)


# --- closed-form steady states (vectorisable) ------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """Means of one configuration from a closed-form steady state (floats or arrays)."""

    ttft_ms: Num
    itl_ms: Num
    tpot_ms: Num
    e2e_ms: Num
    output_tokens_per_s: Num
    requests_per_s: Num
    utilization: Num  # offered load / capacity (open loop); 1 for closed loop and batches


def static_batch(raw: RawCosts, f: Factors, batch: Num, inp: Num, out: Num) -> Estimate:
    """All requests start together (TensorRT-LLM 0.9 tables): TTFT is the whole batch's prefill."""
    ttft = prefill_ms(raw, f, batch, inp)
    tpot = decode_ms(raw, f, batch, inp + out / 2.0)
    e2e = ttft + (out - 1.0) * tpot
    return Estimate(ttft, tpot, tpot, e2e, batch * out / e2e * 1e3, batch / e2e * 1e3, 1.0 + 0.0 * e2e)


def _chunk_prefill_ms(raw: RawCosts, f: Factors, d: Num, ctx: Num, inp: Num) -> Num:
    """Extra time a prompt of ``inp`` tokens adds when it rides along with decoding sequences.

    Taken at one decoding sequence of the mean context so that the cost does not depend on the batch
    (the smooth roofline would otherwise charge bigger batches more for the same prompt).
    """
    per_seq = ctx / _maximum(d, 1.0)
    return step_ms(raw, f, 1.0, per_seq, inp, inp * inp / 2.0) - step_ms(raw, f, 1.0, per_seq)


def offline(raw: RawCosts, f: Factors, batch: Num, inp: Num, out: Num, budget: Num = 8192.0) -> Estimate:
    """All requests queued at once; the engine keeps up to ``batch`` sequences running (max throughput).

    In steady state every step carries ``d`` decoding sequences plus the prefill tokens of the requests
    that replace the finished ones, ``d × inp / out``, within the step token ``budget`` (chunked prefill).
    """
    d = _minimum(batch, _maximum(budget * out / (inp + out), 1.0))
    p = d * inp / out
    step = step_ms(raw, f, d, d * (inp + out / 2.0), p, p * inp / 2.0)
    x = d / (out * step)  # requests per ms
    e2e = batch / x
    ttft = _minimum(e2e * 0.999, step * _maximum(inp / _maximum(budget - d, 1.0), 1.0))
    return Estimate(ttft, step, step, e2e, x * out * 1e3, x * 1e3, 1.0 + 0.0 * e2e)


def offline_batch(raw: RawCosts, f: Factors, n: Num, max_batch: Num, inp: Num, out: Num) -> Estimate:
    """``n`` equal requests submitted together and run to completion in waves of at most ``max_batch``."""
    wave = _minimum(n, max_batch)
    waves = np.ceil(n / wave) if isinstance(n, np.ndarray) else math.ceil(n / wave)
    one = static_batch(raw, f, wave, inp, out)
    total = waves * one.e2e_ms
    return Estimate(
        one.ttft_ms,
        one.itl_ms,
        one.tpot_ms,
        one.e2e_ms,
        n * out / total * 1e3,
        n / total * 1e3,
        1.0 + 0.0 * total,
    )


def lockstep_share(out: Num, out_cv: Num) -> Num:
    """Share of closed-loop clients that stay in lockstep, from the spread of the output lengths.

    Clients with identical output lengths finish together, re-send together and prefill as a cohort forever
    (genai-perf's fixed-length NIM runs, the simulator with fixed lengths). Any spread in the output lengths
    shifts their finishing steps apart: once the standard deviation reaches about a token the phases random-
    walk apart within a few requests, and arrivals become spread over the decode steps. Input-length spread
    alone keeps the cohort (its prompts still share one prefill step), so only the output spread counts.
    """
    sd = out_cv * out
    return 1.0 / (1.0 + sd * sd)


def closed_loop(
    raw: RawCosts,
    f: Factors,
    users: Num,
    inp: Num,
    out: Num,
    max_batch: Num,
    out_cv: Num = 0.0,
    budget: Num = 8192.0,
) -> Estimate:
    """N clients, each sending its next request as soon as the last one finishes (no think time).

    The engine is never idle, so one request costs (out-1)/B decode steps plus its prefill: X follows,
    and Little's law gives E2E = N / X. Users beyond ``max_batch`` wait in the queue (TTFT grows).
    ``out_cv`` is the coefficient of variation of the output lengths: it decides whether the clients stay
    in lockstep (fixed lengths: a fitted cohort term) or spread out (a TTFT derived from the step structure).
    """
    b = _minimum(users, max_batch)
    ctx = b * (inp + out / 2.0)
    t_d = decode_ms(raw, f, b, inp + out / 2.0)
    t_p = _chunk_prefill_ms(raw, f, b, ctx, inp)
    per_req = (out - 1.0) / b * t_d + t_p
    x = 1.0 / per_req  # requests per ms
    # The per-request overhead (HTTP, tokenisation, detokenisation) happens off the GPU: a client spends it
    # outside the engine, like a think time. Below the batch limit it lengthens every request; above it,
    # the engine is the bottleneck and the overhead overlaps with the wait for a free slot.
    r = f.request_overhead_ms
    e2e = _maximum(users / x, b / x + r)
    queue = _maximum(users / x - b / x - r, 0.0)
    x = users / e2e
    # Lockstep (fixed lengths): clients that start together stay in phase and their prompts arrive as one
    # cohort, prefilled first come first served in chunks of the step token ``budget``. The cohort's b × inp
    # tokens take n = b × inp / budget mixed steps (each a budget's worth of prefill plus the decodes of the
    # members already prefilled, half the cohort on average), so the mean prompt waits (n + 1) / 2 of them;
    # a cohort within one step is a single step of b × inp tokens. Long cohorts split up: step-time noise
    # parts members that finish a step apart, so the wait grows as sqrt(n) past ``sync_scale`` steps (NIM's
    # fixed-length genai-perf rows, the only closed-loop source, flatten past ~5-10 steps). ``prefill_sync``
    # multiplies the cohort wait; the calibration pins it at 1 (the chunk structure as is) and fits only
    # ``sync_scale``.
    cohort = b * inp
    n_chunks = cohort / _maximum(budget, 1.0)
    chunk = _minimum(cohort, budget)
    t_mixed = step_ms(raw, f, b / 2.0, ctx / 2.0, chunk, chunk * inp / 2.0)
    desync = (1.0 + (n_chunks / f.sync_scale) ** 2) ** -0.25
    lockstep = t_mixed * (1.0 + f.prefill_sync * _maximum(n_chunks - 1.0, 0.0) / 2.0 * desync)
    # Spread out (varied lengths): requests finish at rate x, so prompts arrive spread over the steps. With
    # chunked prefill a prompt is admitted at the next step: it waits for the rest of the current step, then
    # rides one mixed step with the decodes and the prompts that arrived during the same step. Prefill takes
    # a share rho of the engine's time, so the mean step is t_d / (1 - rho) and x * t_s prompts share it.
    rho = _minimum(x * t_p, 0.95)
    t_s = t_d / (1.0 - rho)
    others = x * t_s
    # A prompt that does not fit the step's token budget with its companions is chunked over more steps.
    steps = _maximum((inp * (1.0 + others)) / _maximum(budget - b, 1.0), 1.0)
    mixed = steps * t_d + t_p * (1.0 + others)
    # Mean residual of the step under way when the prompt arrives (a random point in time): mixed steps
    # cover a share of the time, decode-only ones the rest. The engine is idle only when no other client is
    # inside it (a single client always finds it idle).
    mixed_share = _minimum(x * mixed / (1.0 + others), 1.0)
    residual = (mixed_share * mixed + (1.0 - mixed_share) * t_d) / 2.0
    busy = 1.0 - (r / (e2e + r)) ** (b - 1.0)
    spread = busy * residual + mixed
    lock = lockstep_share(out, out_cv)
    ttft = lock * lockstep + (1.0 - lock) * spread + queue + r
    ttft = _minimum(ttft, e2e * 0.999)
    # A token cannot come faster than a decode step of this batch; when the TTFT's mixed step already
    # covers part of the decoding (short outputs, one client), keep E2E = TTFT + (out - 1) × ITL consistent.
    itl = _maximum((e2e - ttft) / _maximum(out - 1.0, 1.0), t_d)
    e2e = _maximum(e2e, ttft + _maximum(out - 1.0, 0.0) * itl)
    x = users / e2e
    return Estimate(ttft, itl, itl, e2e, x * out * 1e3, x * 1e3, 1.0 + 0.0 * e2e)


def _maximum(a: Num, b: Num) -> Num:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.maximum(a, b)
    return max(a, b)


# --- discrete-event simulation --------------------------------------------------------------------------


@dataclass
class SimResult:
    ttft_ms: np.ndarray
    tpot_ms: np.ndarray
    e2e_ms: np.ndarray
    itl_values: np.ndarray
    itl_weights: np.ndarray
    output_tokens_per_s: float
    requests_per_s: float
    saturated: bool
    completed: int


@dataclass(order=True)
class _Finish:
    step: int
    rid: int = field(compare=True)


def simulate(
    raw: RawCosts,
    f: Factors,
    *,
    inputs: np.ndarray,
    outputs: np.ndarray,
    arrivals: np.ndarray | None,
    concurrency: int | None,
    max_batch: int,
    max_batched_tokens: int = 8192,
    warmup: int = 0,
) -> SimResult:
    """Continuous batching with chunked prefill, one engine step at a time where prefill is involved and
    whole decode-only stretches in closed form.

    Closed loop: pass ``concurrency`` (clients re-issue at completion; ``arrivals`` None).
    Open loop: pass sorted ``arrivals`` in ms. Requests use ``inputs[i]`` / ``outputs[i]`` tokens.
    """
    n = len(inputs)
    ttft = np.full(n, np.nan)
    e2e = np.full(n, np.nan)
    arrive = np.zeros(n)
    ctx0 = np.zeros(n)
    itl_v: list[float] = []
    itl_w: list[float] = []
    waiting: deque[int] = deque()
    next_req = 0
    t = 0.0
    if arrivals is None:
        assert concurrency is not None
        for _ in range(min(concurrency, n)):
            waiting.append(next_req)
            next_req += 1
    running = 0
    ctx_offset = 0.0  # summed context = ctx_offset + running * g
    g = 0  # global decode step counter
    finishes: list[tuple[int, int]] = []
    prefill_left = 0.0  # tokens left of the request at the head of the prefill
    done = 0
    step = scalar_step(raw, f)
    d_per_ctx = step(1.0, 1.0, 0.0, 0.0) - step(1.0, 0.0, 0.0, 0.0)
    t_first_done = None

    # Plain lists inside the loop: indexing numpy arrays one element at a time costs more than the step.
    arr: list[float] = [] if arrivals is None else [float(x) for x in arrivals]
    inp: list[float] = [float(x) for x in inputs]
    outp: list[float] = [float(x) for x in outputs]

    def admit_arrivals(now: float) -> None:
        nonlocal next_req
        if arrivals is None:
            return
        while next_req < n and arr[next_req] <= now:
            arrive[next_req] = arr[next_req]
            waiting.append(next_req)
            next_req += 1

    def finish_due() -> None:
        nonlocal running, ctx_offset, done, next_req, t_first_done
        while finishes and finishes[0][0] <= g:
            _, rid = heapq.heappop(finishes)
            running -= 1
            ctx_offset -= ctx0[rid]
            e2e[rid] = t - arrive[rid]
            done += 1
            if t_first_done is None and done > warmup:
                t_first_done = t
            if arrivals is None and next_req < n:
                arrive[next_req] = t
                waiting.append(next_req)
                next_req += 1

    if arrivals is not None and n:
        t = arr[0]
    while done < n:
        admit_arrivals(t)
        can_prefill = bool(waiting) and running < max_batch
        if can_prefill:
            # One mixed step: every running sequence decodes one token, prompts fill the token budget.
            budget = max(max_batched_tokens - running, 1)
            p_tokens = 0.0
            s2 = 0.0
            completed_prefill: list[int] = []
            slots = max_batch - running
            for rid in list(waiting)[:slots]:
                if prefill_left <= 0:
                    prefill_left = inp[rid]
                take = min(prefill_left, budget - p_tokens)
                done_before = inp[rid] - prefill_left
                s2 += take * (done_before + take / 2.0)
                p_tokens += take
                prefill_left -= take
                if prefill_left <= 0:
                    completed_prefill.append(rid)
                if p_tokens >= budget:
                    break
            ctx = ctx_offset + running * g
            dt = step(float(running), ctx, p_tokens, s2)
            t += dt
            if running:
                g += 1
                itl_v.append(dt)
                itl_w.append(float(running))
            for rid in completed_prefill:
                waiting.popleft()
                ttft[rid] = t - arrive[rid]
                if outp[rid] <= 1:
                    e2e[rid] = ttft[rid]
                    done += 1
                    if arrivals is None and next_req < n:
                        arrive[next_req] = t
                        waiting.append(next_req)
                        next_req += 1
                    continue
                running += 1
                ctx0[rid] = inp[rid] + 1 - g
                ctx_offset += ctx0[rid]
                heapq.heappush(finishes, (g + int(outp[rid]) - 1, rid))
            finish_due()
            continue
        if running:
            k = finishes[0][0] - g
            ctx = ctx_offset + running * g
            first = step(float(running), ctx, 0.0, 0.0)
            if arrivals is not None and next_req < n and running < max_batch:
                gap = arr[next_req] - t
                k = max(1, min(k, int(gap // first) + 1))
            slope = d_per_ctx * running
            total = k * first + slope * k * (k - 1) / 2.0
            t += total
            g += k
            itl_v.append(first + slope * (k - 1) / 2.0)
            itl_w.append(float(running * k))
            finish_due()
            continue
        if arrivals is not None and next_req < n:
            t = max(t, arr[next_req])
            continue
        break  # nothing left to do (should not happen)
    keep = np.arange(n) >= warmup
    keep &= ~np.isnan(e2e)
    out_tok = outputs[keep]
    tp = np.where(out_tok > 1, (e2e[keep] - ttft[keep]) / np.maximum(out_tok - 1, 1), ttft[keep])
    span = (t - (t_first_done or 0.0)) if t_first_done is not None else t
    measured = max(int(keep.sum()) - 1, 1)
    saturated = False
    if arrivals is not None and keep.sum() > 20:
        # Queue growth: TTFT of the last quarter far above the second quarter means no steady state.
        ttk = ttft[keep]
        q = len(ttk) // 4
        early, late = float(np.mean(ttk[q : 2 * q])), float(np.mean(ttk[-q:]))
        saturated = late > 3.0 * early + 5.0 * float(np.median(tp))
    rate = measured / span * 1e3 if span > 0 else 0.0
    tokens_rate = float(out_tok.sum()) / max(span, 1e-9) * 1e3 * measured / max(int(keep.sum()), 1)
    return SimResult(
        ttft_ms=ttft[keep],
        tpot_ms=tp,
        e2e_ms=e2e[keep],
        itl_values=np.asarray(itl_v),
        itl_weights=np.asarray(itl_w),
        output_tokens_per_s=tokens_rate,
        requests_per_s=rate,
        saturated=saturated,
        completed=int(keep.sum()),
    )


def stats_of(values: np.ndarray, weights: np.ndarray | None = None) -> Stats:
    """Mean and p50/p90/p95/p99 (weighted when ``weights`` is given)."""
    if len(values) == 0:
        return Stats.constant(0.0)
    if weights is None:
        p = np.percentile(values, [50, 90, 95, 99])
        return Stats(
            mean=float(values.mean()), p50=float(p[0]), p90=float(p[1]), p95=float(p[2]), p99=float(p[3])
        )
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    total = cum[-1]
    qs = [float(v[min(np.searchsorted(cum, q * total), len(v) - 1)]) for q in (0.5, 0.9, 0.95, 0.99)]
    return Stats(mean=float((v * w).sum() / total), p50=qs[0], p90=qs[1], p95=qs[2], p99=qs[3])


# --- every scenario at once (vectorised): what the calibration fits and what ``predict`` reports ----------

SCENARIOS: dict[str, int] = {
    "static_batch": 0,
    "closed_loop": 1,
    "offline": 2,
    "open_loop": 3,
    "offline_batch": 4,
    "burst": 5,
}


@dataclass(frozen=True)
class OpenLoop:
    """Steady state of an open loop (floats or arrays): means, and what the fixed point settled on."""

    ttft_ms: Num
    itl_ms: Num
    output_tokens_per_s: Num
    utilization: Num  # offered rate / capacity
    capacity_per_s: Num  # requests/s at which the engine stops keeping up
    batch: Num  # mean decoding sequences per step (time average)


def open_loop_capacity(
    raw: RawCosts, f: Factors, inp: Num, out: Num, max_batch: Num, budget: Num, cached: Num = 0.0
) -> tuple[Num, Num, Num]:
    """(requests per ms, decode batch, step ms) at which an open loop stops keeping up.

    At capacity every step carries ``B`` decoding sequences (the batch cap, or fewer where the step token
    budget also has to hold the prompts arriving meanwhile) plus the prefill of the requests that replace
    the finished ones: ``B / (out - 1)`` requests per step, ``p_tok`` new prompt tokens each. The
    throughput is ``B / ((out - 1) * step)``.
    """
    o1 = _maximum(out - 1.0, 1.0)
    p_tok = _maximum(inp - cached, 1.0)
    b = _minimum(max_batch, _maximum(budget / (1.0 + p_tok / o1), 1.0))
    p = b * p_tok / o1
    t = step_ms(raw, f, b, b * (inp + out / 2.0), p, p * (cached + p_tok / 2.0))
    return b / (o1 * t), b, t


def open_loop(
    raw: RawCosts,
    f: Factors,
    rate: Num,
    inp: Num,
    out: Num,
    max_batch: Num,
    budget: Num,
    n_prompts: Num = 1000.0,
    arrival_cv: Num = 1.0,
    cached: Num = 0.0,
) -> OpenLoop:
    """Requests arriving at ``rate`` per second (Poisson: cv 1, gamma: 1/sqrt(shape), constant: 0).

    Below capacity the engine settles where arrival rate, requests in flight and step time agree: with a
    mean step of ``T`` ms, Little's law puts ``L = rate * (out - 1) * T`` sequences in the decode batch and
    ``rate * p_tok * T`` prompt tokens in each step, and the step time of that batch is ``T`` again. The
    step time grows with ``T`` more slowly than ``T`` itself up to the capacity rate (``open_loop_capacity``),
    so the fixed point exists exactly below capacity and is found by a safeguarded secant (Illinois) search
    between an idle engine and a full batch. ``saturated`` therefore means the offered rate exceeds what the
    engine serves, not that a slow first guess ran away. ``cached``: prompt tokens served from the prefix
    cache (they are attended to, but not computed).

    At or past capacity a finite run of ``n_prompts`` queues: the first ``max_batch`` are admitted at once,
    the others wait for a finishing request.
    """
    lam = np.maximum(np.asarray(rate, dtype=float), 1e-9) / 1e3  # per ms
    inp, out = np.asarray(inp, dtype=float), np.asarray(out, dtype=float)
    o1 = np.maximum(out - 1.0, 1.0)
    p_tok = np.maximum(inp - cached, 1.0)
    ctx = inp + out / 2.0
    mu, b_cap, t_cap = open_loop_capacity(raw, f, inp, out, max_batch, budget, cached)
    util = lam / mu
    ok = util < 1.0

    def seen(t: Num) -> tuple[Num, Num]:
        """Decode batch a decoding request shares a step with, and prefill tokens per step, at step ``t``.

        The time-average batch is L; a request sees itself plus the others (1 + L when far from the cap,
        the cap B when the batch is full).
        """
        load = lam * o1 * t
        return 1.0 + load * (1.0 - 1.0 / np.maximum(b_cap, 1.0)), lam * p_tok * t

    def gap(t: Num) -> Num:
        b, p = seen(t)
        return step_ms(raw, f, b, b * ctx, p, p * (cached + p_tok / 2.0)) - t

    lo = np.asarray(step_ms(raw, f, 1.0, ctx), dtype=float) * np.ones_like(lam)
    hi = np.where(ok, b_cap / (lam * o1), lo)
    hi = np.maximum(hi, lo)
    g_lo, g_hi = gap(lo), gap(hi)
    t = lo
    for _ in range(14):  # Illinois: secant steps that keep the root bracketed
        denom = np.where(g_lo - g_hi == 0, 1.0, g_lo - g_hi)
        t = np.clip(lo + g_lo * (hi - lo) / denom, lo, hi)
        g_t = gap(t)
        right = g_t > 0  # root lies above t: t becomes the lower end, else the upper end
        lo, hi = np.where(right, t, lo), np.where(right, hi, t)
        g_lo, g_hi = np.where(right, g_t, 0.5 * g_lo), np.where(right, 0.5 * g_hi, g_t)
    itl_ok = np.where(ok, t, t_cap)
    _, p_step = seen(itl_ok)
    load = lam * o1 * itl_ok
    # TTFT below capacity: the rest of the step under way when the prompt arrives (if another request is
    # inside the engine), then the step(s) that prefill it with the decodes and the prompts arriving
    # alongside, then a queueing wait that only grows near capacity (Kingman), and the per-request overhead.
    others = load * (1.0 - 1.0 / np.maximum(b_cap, 1.0))
    chunks = np.maximum(p_tok / np.maximum(budget - others - p_step, 1.0), 1.0)
    own = p_step + p_tok
    first = step_ms(raw, f, others, others * ctx, own, own * (cached + p_tok / 2.0))
    first = first + (chunks - 1.0) * step_ms(raw, f, others, others * ctx)
    busy = 1.0 - np.exp(-lam * (first + o1 * itl_ok))
    u = np.minimum(util, 0.999)
    wait = np.asarray(arrival_cv, dtype=float) ** 2 / 2.0 * u / (1.0 - u) * (itl_ok + first - itl_ok * busy)
    ttft_ok = busy * itl_ok / 2.0 + first + wait + f.request_overhead_ms
    # At or past capacity a finite run of n prompts queues. The first ``max_batch`` are admitted at once and
    # prefill at the full token budget; later ones wait for a finishing request (rate mu).
    grid = (np.arange(64) + 0.5) / 64.0
    n = np.asarray(n_prompts, dtype=float)[..., None] * grid
    m = np.asarray(max_batch, dtype=float)[..., None] * (1.0 + 0.0 * grid)
    burst_step = step_ms(raw, f, 0.0, 0.0, budget, budget * inp / 2.0)
    per_prompt = (np.asarray(burst_step * p_tok / budget, dtype=float))[..., None]
    first_sat = np.minimum(n, m) * per_prompt + np.maximum(n - m, 0.0) / np.asarray(mu)[..., None]
    ttft_sat = np.maximum(first_sat - n / lam[..., None], 0.0).mean(axis=-1) + t_cap * chunks
    ttft_sat = ttft_sat + f.request_overhead_ms
    return OpenLoop(
        ttft_ms=np.where(ok, ttft_ok, ttft_sat),
        itl_ms=itl_ok,
        output_tokens_per_s=np.where(ok, lam, mu) * 1e3 * out,
        utilization=util,
        capacity_per_s=mu * 1e3,
        batch=np.where(ok, load, b_cap),
    )


def _take(obj: Any, idx: np.ndarray) -> Any:
    """A copy of a dataclass of floats/arrays with every array field restricted to ``idx``."""
    values = {}
    for name in obj.__dataclass_fields__:
        v = getattr(obj, name)
        values[name] = v[idx] if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) > 1 else v
    return type(obj)(**values)


def burst(
    raw: RawCosts,
    f: Factors,
    n: Num,
    inp: Num,
    out: Num,
    max_batch: Num,
    budget: Num,
    out_cv: Num = 0.0,
    cached: Num = 0.0,
) -> Estimate:
    """``n`` requests submitted at once to a serving engine (``vllm bench serve`` at request rate inf).

    Throughput is the run's: all output tokens over the run's duration. The duration is the prefill of
    every prompt in steps of the token budget, plus the decode steps. Decoding runs ``B = min(n,
    max_batch)`` sequences while requests remain, then drains: the longest request (about ``out × (1 +
    cv² (ln n - 0.42))``, the expected maximum of exponential lengths at cv 1) runs its last tokens nearly
    alone, at the batch-independent part ``a`` of a step. With the step affine in the batch (``a + c b``)
    the decode phase costs ``a × (longest + queued waves) + c × all tokens``.

    Two terms exist only here, fitted on bursts alone (``calibrate._fit_bursts``): ``burst_seq_ms``, time
    per decoding stream and step added to every step (fitted ~70-85 us on vLLM 0.10-0.11, against the
    ~10 us per sequence moderate loads show: a thousand concurrent streams load the API server's output
    processing and the step's per-request bookkeeping), and ``burst_prefill_mult`` on the prefill chunks
    (fitted ~1.6-1.8: budget-sized chunks packed beside hundreds of decodes run below the roofline). A
    max() of engine and API-server time instead of their sum fitted worse on held-out models.

    TPOT here is the token-weighted mean time between tokens (vLLM's per-request mean TPOT is dominated by
    short requests that lived entirely through the prefill phase, a statistic of the benchmark rather than
    of the step times).
    """
    o1 = _maximum(out - 1.0, 1.0)
    p_tok = _maximum(inp - cached, 1.0)
    ctx = inp + out / 2.0
    b = _maximum(_minimum(n, max_batch), 1.0)
    fe, pm = f.burst_seq_ms, f.burst_prefill_mult
    chunk = _minimum(b * p_tok, budget)
    t_mix = pm * step_ms(raw, f, 0.0, 0.0, chunk, chunk * (cached + p_tok / 2.0))
    steps_all = n * p_tok / chunk
    t_prefill = steps_all * t_mix
    a = decode_ms(raw, f, 1.0, ctx) + fe
    c = (decode_ms(raw, f, b, ctx) + fe * b - a) / _maximum(b - 1.0, 1.0)
    longest = out * (1.0 + out_cv**2 * (np.log(_maximum(n, 2.0)) - 0.42))
    waves = n / b
    t_decode = a * (longest + (waves - 1.0) * out) + c * n * out
    duration = t_prefill + t_decode
    thr = n * out / duration * 1e3
    # Mean time between tokens, token-weighted (what the step times determine): the decode tokens produced
    # during prefill chunks (about half the batch decodes alongside each chunk) take a mixed step each; the
    # others a decode step at the token-weighted batch, which shrinks to b / (1 + cv²) as requests finish.
    mixed_prefill = step_ms(raw, f, b / 2.0, b / 2.0 * ctx, chunk, chunk * (cached + p_tok / 2.0))
    t_mixed = pm * mixed_prefill + fe * b / 2.0
    b_w = b / (1.0 + out_cv**2)
    t_dec = decode_ms(raw, f, b_w, ctx) + fe * b_w
    tokens = n * o1
    in_mixed = _minimum(steps_all * b / 2.0, tokens)
    tpot = (in_mixed * t_mixed + (tokens - in_mixed) * t_dec) / tokens
    ttft = t_prefill / 2.0 + f.request_overhead_ms
    e2e = ttft + o1 * tpot
    return Estimate(ttft, tpot, tpot, e2e, thr, thr / out, 1.0 + 0.0 * e2e)


def steady_state(
    raw: RawCosts,
    f: Factors,
    scen: Num,
    batch: Num,
    inp: Num,
    out: Num,
    rate: Num,
    max_batch: Num,
    budget: Num,
    n_prompts: Num,
    arrival_cv: Num = 1.0,
    out_cv: Num = 0.0,
    cached: Num = 0.0,
) -> dict[str, Num]:
    """Closed-form means for every scenario code of ``SCENARIOS`` (arrays of equal length, or scalars).

    ``out_cv``: coefficient of variation of the output lengths (0 for fixed lengths; closed loop and
    bursts). ``cached``: prompt tokens per request served from the prefix cache (open loop and bursts).

    Returns ttft_ms, tpot_ms (= mean ITL), e2e_ms, output_tokens_per_s, requests_per_s, utilization,
    capacity_per_s (requests/s the engine serves at most, open-loop sense) and batch (mean decoding
    sequences per step in an open loop; the batch cap elsewhere).
    """
    keys: tuple[str, ...] = ("ttft_ms", "tpot_ms", "e2e_ms", "output_tokens_per_s", "requests_per_s")
    keys += ("utilization", "capacity_per_s", "batch")
    scen = np.atleast_1d(np.asarray(scen))
    n = len(scen)
    if n > 1 and len(np.unique(scen)) > 1:
        # Evaluate each scenario on its own rows only (the calibration calls this thousands of times).
        arrays = {"batch": batch, "inp": inp, "out": out, "rate": rate, "max_batch": max_batch}
        arrays |= {"budget": budget, "n_prompts": n_prompts, "arrival_cv": arrival_cv, "out_cv": out_cv}
        arrays |= {"cached": cached}
        full = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)) for k, v in arrays.items()}
        result = {k: np.empty(n) for k in keys}
        for code in np.unique(scen):
            idx = np.nonzero(scen == code)[0]
            sub = {k: v[idx] for k, v in full.items()}
            part = steady_state(_take(raw, idx), _take(f, idx), scen[idx], **sub)
            for k, v in part.items():
                result[k][idx] = v
        return result
    code = int(scen[0])
    util: Num = 1.0
    mu, b_cap, _ = open_loop_capacity(raw, f, inp, out, max_batch, budget, cached)
    cap: Num = mu * 1e3
    mean_batch: Num = b_cap
    if code == 3:
        ol = open_loop(raw, f, rate, inp, out, max_batch, budget, n_prompts, arrival_cv, cached)
        ttft, tpot, thr, util = ol.ttft_ms, ol.itl_ms, ol.output_tokens_per_s, ol.utilization
        e2e = ttft + (np.asarray(out, dtype=float) - 1.0) * tpot
        mean_batch = ol.batch
    else:
        if code == 0:
            est = static_batch(raw, f, batch, inp, out)
        elif code == 1:
            est = closed_loop(raw, f, batch, inp, out, max_batch, out_cv, budget)
        elif code == 2:
            est = offline(raw, f, max_batch, inp, out, budget)
        elif code == 5:
            est = burst(raw, f, n_prompts, inp, out, max_batch, budget, out_cv, cached)
        else:
            est = offline_batch(raw, f, batch, max_batch, inp, out)
        ttft, tpot, e2e, thr = est.ttft_ms, est.tpot_ms, est.e2e_ms, est.output_tokens_per_s
    shape = scen.shape
    ttft, tpot, e2e, thr, util, cap, mean_batch = (
        np.broadcast_to(np.asarray(v, dtype=float), shape)
        for v in (ttft, tpot, e2e, thr, util, cap, mean_batch)
    )
    return {
        "ttft_ms": ttft,
        "tpot_ms": tpot,
        "e2e_ms": e2e,
        "output_tokens_per_s": thr,
        "requests_per_s": thr / np.asarray(out, dtype=float),
        "utilization": util,
        "capacity_per_s": cap,
        "batch": mean_batch,
    }
