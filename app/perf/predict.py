"""One prediction: memory fit, then measured rows first, physics (closed form or simulation) otherwise."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import numpy as np

from app.perf import memory as mem
from app.perf.calibrate import Calibration
from app.perf.engines import stack_for
from app.perf.errors import InvalidConfigError
from app.perf.memo import Memo
from app.perf.model import (
    SCENARIOS,
    Factors,
    RawCosts,
    SimResult,
    lockstep_share,
    raw_costs,
    simulate,
    stats_of,
    steady_state,
)
from app.perf.types import (
    ENGINES,
    PRECISIONS,
    GpuSpec,
    LengthDist,
    ModelArch,
    Prediction,
    PredictionInterval,
    RunConditions,
    Stats,
    Workload,
)

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


def default_calibration() -> Calibration:
    """The calibration shipped with the package (fitted by benchmarks/accuracy.py --write), else priors.

    Read on every call (app.perf keeps no module state): a caller that predicts often loads it once and
    passes it on (app.planning.perf_context keeps the process's copy).
    """
    if CALIBRATION_FILE.exists():
        return Calibration.model_validate(json.loads(CALIBRATION_FILE.read_text()))
    return Calibration()


@dataclass(frozen=True)
class MeasuredPoint:
    """A benchmark row of the same model, GPU, TP, precision and engine (closed loop, fixed lengths)."""

    concurrency: float
    input_tokens: int
    output_tokens: int
    ttft_ms: float | None
    tpot_ms: float | None
    output_tokens_per_s: float | None


def _sample(dist: LengthDist, n: int, rng: np.random.Generator) -> np.ndarray:
    if dist.kind == "fixed" or dist.cv == 0:
        vals = np.full(n, dist.mean)
    elif dist.kind == "uniform":
        half = dist.mean * dist.cv * math.sqrt(3.0)
        vals = rng.uniform(dist.mean - half, dist.mean + half, n)
    elif dist.kind == "exponential":
        vals = rng.exponential(dist.mean, n)
    else:
        sigma = math.sqrt(math.log(1.0 + dist.cv**2))
        vals = rng.lognormal(math.log(dist.mean) - sigma**2 / 2.0, sigma, n)
    hi = dist.max if dist.max is not None else np.inf
    return np.clip(np.round(vals), dist.min, hi)


def _validate(arch: ModelArch, tp: int, precision: str, engine: str, workload: Workload) -> None:
    mem.check_tp(arch, tp)
    if precision not in PRECISIONS:
        raise InvalidConfigError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if engine not in ENGINES:
        raise InvalidConfigError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    for name, dist in (("input", workload.input_tokens), ("output", workload.output_tokens)):
        if dist.mean <= 0:
            raise InvalidConfigError(f"{name} tokens must be positive")


def _interval(
    cal: Calibration, ttft: float, tpot: float, thr: float, stack: str, model: str, gpu: str
) -> tuple[PredictionInterval, str]:
    """The 80% interval of each metric, as wide as the evidence behind this configuration requires, and
    that evidence (``Calibration.band``)."""
    tier = "measured"

    def band(metric: str, value: float) -> tuple[float, float]:
        nonlocal tier
        lo, hi, tier = cal.band(metric, stack, model, gpu)
        return (value * math.exp(lo), value * math.exp(hi))

    interval = PredictionInterval(
        ttft_ms=band("ttft_ms", ttft),
        tpot_ms=band("tpot_ms", tpot),
        output_tokens_per_s=band("output_tokens_per_s", thr),
    )
    return interval, tier


def _interp_measured(points: list[MeasuredPoint], workload: Workload) -> tuple[dict[str, float], str] | None:
    """Log-linear interpolation in concurrency over rows with the same lengths (closed loop only)."""
    if workload.concurrency is None or workload.input_tokens.cv or workload.output_tokens.cv:
        return None
    same = sorted(
        (
            p
            for p in points
            if p.input_tokens == workload.input_tokens.mean and p.output_tokens == workload.output_tokens.mean
        ),
        key=lambda p: p.concurrency,
    )
    if not same:
        return None
    c = float(workload.concurrency)
    if c < same[0].concurrency or c > same[-1].concurrency:
        return None
    out: dict[str, float] = {}
    exact = any(p.concurrency == c for p in same)
    for metric in ("ttft_ms", "tpot_ms", "output_tokens_per_s"):
        xs = [(math.log(p.concurrency), getattr(p, metric)) for p in same if getattr(p, metric)]
        if not xs:
            continue
        lx = math.log(c)
        for (x0, y0), (x1, y1) in pairwise(xs):
            if x0 <= lx <= x1:
                w = 0.0 if x1 == x0 else (lx - x0) / (x1 - x0)
                out[metric] = math.exp(math.log(y0) * (1 - w) + math.log(y1) * w)
                break
        else:
            if len(xs) == 1 and xs[0][0] == lx:
                out[metric] = xs[0][1]
    if not out:
        return None
    return out, "measured" if exact else "interpolated"


def predict(
    arch: ModelArch,
    gpu: GpuSpec,
    workload: Workload,
    *,
    tp: int = 1,
    precision: str = "bf16",
    engine: str = "vllm",
    calibration: Calibration | None = None,
    measured: list[MeasuredPoint] | None = None,
    full: bool = True,
    max_num_seqs: int = 256,
    max_num_batched_tokens: int = 8192,
    gpu_memory_utilization: float = 0.9,
    seed: int = 0,
    conditions: RunConditions | None = None,
    engine_version: str | None = None,
    memo: Memo[Prediction] | None = None,
) -> Prediction:
    """Predict latency percentiles, throughput and memory fit of one configuration.

    Means come from the calibrated closed form (what ``benchmarks/accuracy.py`` scores). ``full`` adds the
    discrete-event simulation for the spread: its percentiles are rescaled so their means match the closed
    form. Without ``full`` percentiles equal the mean (screening). ``measured`` rows of the same model, GPU,
    TP, precision and engine take precedence where they cover the workload. ``conditions`` replays a
    published benchmark's setup (software stack, eager mode, finite run); planners leave it None.
    ``engine_version`` picks the calibrated stack of that version (default: the deployed vLLM,
    ``app.perf.engines.DEPLOYED_VLLM_VERSION``). ``memo``: the caller's memo (keyed by catalog version).
    """
    _validate(arch, tp, precision, engine, workload)
    cal = calibration or default_calibration()
    cond = conditions or RunConditions()
    if cond.stack is None:
        cond = cond.model_copy(update={"stack": stack_for(engine, engine_version)})
    key = (
        arch,
        gpu,
        workload,
        tp,
        precision,
        engine,
        id(cal),
        full,
        max_num_seqs,
        max_num_batched_tokens,
        gpu_memory_utilization,
        seed,
        tuple(measured or ()),
        cond,
    )
    if memo is not None:
        hit = memo.get(key)
        if hit is not None:
            return hit
    result = _predict(
        arch,
        gpu,
        workload,
        tp,
        precision,
        engine,
        cal,
        measured,
        full,
        max_num_seqs,
        max_num_batched_tokens,
        gpu_memory_utilization,
        seed,
        cond,
    )
    return memo.put(key, result) if memo is not None else result


def length_cv(dist: LengthDist) -> float:
    """Coefficient of variation of the lengths ``_sample`` draws (0 when they are all equal)."""
    if dist.kind == "fixed" or dist.cv == 0:
        return 0.0
    return 1.0 if dist.kind == "exponential" else float(dist.cv)


def _arrival_cv(workload: Workload) -> float:
    if workload.arrival == "gamma":
        return 1.0 / math.sqrt(workload.burstiness)
    return 0.0 if workload.arrival == "constant" else 1.0


def _predict(
    arch: ModelArch,
    gpu: GpuSpec,
    workload: Workload,
    tp: int,
    precision: str,
    engine: str,
    cal: Calibration,
    measured: list[MeasuredPoint] | None,
    full: bool,
    max_num_seqs: int,
    max_num_batched_tokens: int,
    util: float,
    seed: int,
    cond: RunConditions,
) -> Prediction:
    kv_dtype = cond.kv_dtype_bytes or mem.default_kv_dtype_bytes(precision, engine)
    plan = mem.plan_memory(
        arch,
        gpu,
        tp=tp,
        precision=precision,
        gpu_memory_utilization=util,
        max_num_batched_tokens=max_num_batched_tokens,
        max_num_seqs=max_num_seqs,
        kv_dtype_bytes=kv_dtype,
    )
    reason = mem.fit_reason(arch, gpu, plan, workload, tp, kv_dtype)
    if reason is not None:
        return Prediction(fits=False, reason=reason, kv_cache_tokens=plan.kv_cache_tokens, max_concurrency=0)
    max_conc = mem.max_concurrent_seqs(arch, plan, workload, tp, max_num_seqs, kv_dtype)
    max_batch = float(max(1, max_conc))
    raw = raw_costs(arch, gpu, tp, precision, kv_dtype)
    if cond.degenerate_routing:
        raw = replace(raw, n_exp=raw.top_k)
    if cond.mha_fallback:
        raw = replace(raw, kv_log_group=math.log(arch.num_attention_heads / arch.num_key_value_heads))
    f = cal.factors(gpu.id, gpu.family, engine, stack=cond.stack, eager=cond.eager, client=cond.client)
    inp, out = workload.input_tokens.mean, workload.output_tokens.mean
    if workload.scenario == "online":
        scen = "open_loop" if workload.request_rate is not None else "closed_loop"
    else:
        scen = workload.scenario
    batch = float(workload.concurrency or max_batch)
    if scen == "closed_loop":
        max_batch = min(max_batch, batch)
    elif scen == "static_batch":
        max_batch = batch
    cached = min(workload.prefix_cached_tokens, inp - 1.0)
    means = steady_state(
        raw,
        f,
        SCENARIOS[scen],
        batch,
        inp,
        out,
        float(workload.request_rate or 0.0),
        max_batch,
        float(max_num_batched_tokens),
        float(cond.n_prompts or (workload.concurrency if scen == "burst" and workload.concurrency else 1000)),
        _arrival_cv(workload),
        length_cv(workload.output_tokens),
        cached,
    )
    mean = {k: float(np.asarray(v).ravel()[0]) for k, v in means.items()}
    # Saturated means the offered rate exceeds the rate the engine serves (the open loop's fixed point has
    # no solution below the batch cap); the simulation only supplies the spread.
    saturated = scen == "open_loop" and mean["utilization"] >= 1.0
    # Past capacity the queue grows without bound: ``saturated`` says so, and TTFT/E2E are those of a finite
    # run (n_prompts, default 1000 requests) so that numbers stay comparable between configurations.
    ttft, itl, tpot, e2e = (Stats.constant(mean[k]) for k in ("ttft_ms", "tpot_ms", "tpot_ms", "e2e_ms"))
    thr, rps = mean["output_tokens_per_s"], mean["requests_per_s"]
    if full and scen in ("open_loop", "closed_loop"):
        sim = _simulate(raw, f, workload, max_batch, max_num_batched_tokens, seed)
        # The simulation covers the engine; the per-request overhead (off the GPU) shifts TTFT and E2E.
        request = float(f.request_overhead_ms)
        sim.ttft_ms, sim.e2e_ms = sim.ttft_ms + request, sim.e2e_ms + request
        ttft = _anchor(stats_of(sim.ttft_ms), mean["ttft_ms"])
        itl = _anchor(stats_of(sim.itl_values, sim.itl_weights), mean["tpot_ms"])
        tpot = _anchor(stats_of(sim.tpot_ms), mean["tpot_ms"])
        e2e = _anchor(stats_of(sim.e2e_ms), mean["e2e_ms"])
        if e2e.p50 < ttft.p50:  # keep E2E ≥ TTFT after the separate rescaling
            e2e = e2e.scaled(ttft.p50 / e2e.p50)
    basis = "estimated"
    if measured:
        got = _interp_measured(measured, workload)
        if got is not None:
            values, basis = got
            if "ttft_ms" in values and ttft.mean > 0:
                ttft = ttft.scaled(values["ttft_ms"] / ttft.mean)
            if "tpot_ms" in values and tpot.mean > 0:
                ratio = values["tpot_ms"] / tpot.mean
                tpot, itl = tpot.scaled(ratio), itl.scaled(ratio)
            if "output_tokens_per_s" in values and thr > 0:
                ratio = values["output_tokens_per_s"] / thr
                thr, rps = thr * ratio, rps * ratio
    # The throughput interval is about capacity: at a fixed offered rate below capacity the engine simply
    # carries the offered load, so the uncertain quantity is how much it could carry.
    capacity = mean["capacity_per_s"] * out
    thr_center = capacity if scen == "open_loop" else thr
    interval, evidence = _interval(
        cal, ttft.mean, tpot.mean, thr_center, cal.stack_for(engine, cond.stack), arch.id, gpu.id
    )
    if basis != "estimated":
        # Measured rows carry run-to-run noise only: shrink the band to a third.
        interval = PredictionInterval(
            ttft_ms=_shrink(interval.ttft_ms, ttft.mean),
            tpot_ms=_shrink(interval.tpot_ms, tpot.mean),
            output_tokens_per_s=_shrink(interval.output_tokens_per_s, thr_center),
        )
    return Prediction(
        fits=True,
        ttft_ms=ttft,
        itl_ms=itl,
        tpot_ms=tpot,
        e2e_ms=e2e,
        output_tokens_per_s=thr,
        requests_per_s=rps,
        max_concurrency=max_conc,
        kv_cache_tokens=plan.kv_cache_tokens,
        saturated=saturated,
        basis=basis,
        interval=interval,
        capacity_output_tokens_per_s=capacity,
        evidence=evidence,
        mean_batch=mean["batch"],
        engine_stack=cond.stack,
        step_basis=cal.step_basis(gpu.id),
    )


def _anchor(stats: Stats, mean: float) -> Stats:
    """Rescale simulated percentiles so their mean equals the calibrated closed-form mean."""
    if stats.mean <= 0:
        return Stats.constant(mean)
    return stats.scaled(mean / stats.mean)


def _simulate(
    raw: RawCosts, f: Factors, workload: Workload, max_batch: float, budget: int, seed: int
) -> SimResult:
    """Per-request samples of the serving dynamics the closed form's means describe.

    Open loop and spread-out closed loops: the steady state of the event simulation. A closed loop whose
    clients stay in lockstep (fixed output lengths, ``lockstep_share``) is different: every round the whole
    cohort arrives together at an idle engine and its prompts are prefilled first come first served in chunks
    of the token budget, so TTFT climbs from one step to ``cohort tokens / budget`` steps across the cohort,
    and the early requests' TPOT carries the later prefill chunks. The simulation's own steady state loses
    this: finishing one step apart, sub-cohorts of ``budget / input`` prompts never regroup and each prefills
    in a single step (identical TTFTs, the percentiles collapse to the mean). The closed form's lockstep term
    is fitted on such cohorts, so its samples come from one cohort round, mixed with the steady state in the
    closed form's proportion.
    """
    rng = np.random.default_rng(seed)
    if workload.request_rate is not None:
        n, warm = 300, 30
        arrivals: np.ndarray | None = np.cumsum(_gaps(workload, n, rng)) * 1e3
        conc = None
    else:
        assert workload.concurrency is not None
        conc = workload.concurrency
        lock = float(lockstep_share(workload.output_tokens.mean, length_cv(workload.output_tokens)))
        if lock > 1e-3:
            cohort = simulate(
                raw,
                f,
                inputs=_sample(workload.input_tokens, conc, rng),
                outputs=_sample(workload.output_tokens, conc, rng),
                arrivals=None,
                concurrency=conc,
                max_batch=int(max_batch),
                max_batched_tokens=budget,
            )
            if lock >= 0.999:
                return cohort
        warm = min(conc, 400)
        n = min(max(warm + 120, 3 * conc), 1200)
        arrivals = None
    steady = simulate(
        raw,
        f,
        inputs=_sample(workload.input_tokens, n, rng),
        outputs=_sample(workload.output_tokens, n, rng),
        arrivals=arrivals,
        concurrency=conc,
        max_batch=int(max_batch),
        max_batched_tokens=budget,
        warmup=warm,
    )
    if conc is None or lock <= 1e-3:
        return steady
    return _mix(cohort, steady, lock)


def _mix(cohort: SimResult, steady: SimResult, lock: float) -> SimResult:
    """Samples, a share ``lock`` of them from the lockstep cohort round and the rest from the steady state.

    Per-request samples are tiled to the steady state's count in that proportion; ITL weights are rescaled so
    each part carries its share of the tokens. Throughputs stay the steady state's (means come from the
    closed form anyway).
    """
    n = len(steady.ttft_ms)
    k = min(max(round(lock * n), 1), n - 1)

    def part(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([np.resize(a, k), np.resize(b, n - k)])

    w_lock = cohort.itl_weights / max(float(cohort.itl_weights.sum()), 1e-12) * lock
    w_steady = steady.itl_weights / max(float(steady.itl_weights.sum()), 1e-12) * (1.0 - lock)
    return replace(
        steady,
        ttft_ms=part(cohort.ttft_ms, steady.ttft_ms),
        tpot_ms=part(cohort.tpot_ms, steady.tpot_ms),
        e2e_ms=part(cohort.e2e_ms, steady.e2e_ms),
        itl_values=np.concatenate([cohort.itl_values, steady.itl_values]),
        itl_weights=np.concatenate([w_lock, w_steady]),
    )


def _shrink(band: tuple[float, float], center: float) -> tuple[float, float]:
    lo, hi = band
    if center <= 0:
        return band
    return (center * (lo / center) ** (1 / 3), center * (hi / center) ** (1 / 3))


def _gaps(workload: Workload, n: int, rng: np.random.Generator) -> np.ndarray:
    rate = workload.request_rate or 1.0
    if workload.arrival == "constant":
        return np.full(n, 1.0 / rate)
    if workload.arrival == "gamma":
        shape = workload.burstiness
        return rng.gamma(shape, 1.0 / (rate * shape), n)
    return rng.exponential(1.0 / rate, n)
