"""Sizing: the fewest replicas of a configuration that meet every SLO target at its percentile under load.

Two passes, so that recommending stays fast:

1. ``screen`` evaluates every candidate at once with the performance model's closed form (numpy arrays over
   candidates × a grid of utilisations). It mirrors ``app.perf.model.open_loop`` (continuous-batching
   fixed point for the decode batch, Kingman's formula for the queue before prefill) and turns its means
   into rough percentiles with fixed ratios. It yields each candidate's per-replica capacity within the SLOs,
   hence a first replica count, and its latency floor at light load (which rules out hopeless candidates).
2. ``size_full`` runs the full percentile model (``app.perf.predict.predict``, discrete-event
   simulation) on the finalists only, stepping the replica count down or up from the screen's answer until
   it has the fewest replicas whose predicted percentiles meet the targets.

SLO metrics (the same definition everywhere, including the brute-force test):
- TTFT p90 and TPOT p90 as predicted;
- E2E p95: the predicted E2E p95 over the distribution of reply lengths (so the p95 reply, not the average
  one, streamed or not). The option's ``e2e_ms.p95`` is this same number, so the card, the comparison, the
  monitoring's "as planned" figure and the API agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from app.perf import memory as mem
from app.perf.calibrate import Calibration
from app.perf.corrections import ConfigOutcomes, OutcomeKey, outcome_key
from app.perf.model import Factors, RawCosts, closed_loop, decode_ms, raw_costs, step_ms
from app.perf.predict import MeasuredPoint, predict
from app.perf.types import GpuSpec, LengthDist, ModelArch, Prediction, Workload
from app.planning.perf_context import default_calibration
from app.planning.result import SloCheck
from app.planning.traffic import TrafficModel

# Screening ratios from the closed form's means to the targets' percentiles (queueing and length spread make
# the tails longer than the mean). Only the screen uses them; the full model decides.
SCREEN_TTFT_P90 = 1.6
SCREEN_TTFT_P95 = 1.8
SCREEN_TPOT_P90 = 1.05
U_GRID = np.concatenate([np.geomspace(0.005, 0.4, 7), np.linspace(0.5, 0.95, 10)])
MAX_NUM_SEQS = 256
MAX_BATCHED_TOKENS = 8192
GPU_MEMORY_UTILIZATION = 0.9


@dataclass(frozen=True)
class Targets:
    ttft_p90_ms: float
    tpot_p90_ms: float
    e2e_p95_ms: float
    throughput_rps: float | None = None


# SLOs are constraints with a safety margin: replicas are sized so every predicted percentile stays this
# share under its target (the model's own error, and a little load growth, fit in the margin).
SLO_SAFETY_MARGIN = 0.10


def with_margin(targets: Targets, margin: float = SLO_SAFETY_MARGIN) -> Targets:
    """The targets replicas are sized against: each latency target less the safety margin."""
    k = 1.0 - margin
    return Targets(
        ttft_p90_ms=targets.ttft_p90_ms * k,
        tpot_p90_ms=targets.tpot_p90_ms * k,
        e2e_p95_ms=targets.e2e_p95_ms * k,
        throughput_rps=targets.throughput_rps,
    )


@dataclass
class Config:
    """One candidate: model × GPU × precision × TP, with its memory plan."""

    model_id: str
    gpu_id: str
    precision: str
    tp: int
    arch: ModelArch
    gpu: GpuSpec
    max_batch: int
    kv_cache_tokens: int
    min_fit_tp: int
    engine: str = "vllm"
    measured: tuple[MeasuredPoint, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)
    # Plain-value keys, computed once: configurations are cached across calls and looked up per call.
    key: tuple[object, ...] = field(init=False, repr=False, compare=False)
    physics: tuple[object, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.key = (
            _arch_key(self.arch),
            _gpu_key(self.gpu),
            self.tp,
            self.precision,
            self.engine,
            self.max_batch,
        )
        # What the performance model's numbers depend on: every architecture field but the name (fine-tunes
        # and copies of one architecture predict alike), the GPU (its id picks the calibration), the rest.
        self.physics = (
            arch_physics(self.arch),
            (*_gpu_key(self.gpu), self.gpu.family),
            self.tp,
            self.precision,
            self.engine,
            self.measured,
        )


Outcomes = Mapping[OutcomeKey, ConfigOutcomes]


def outcomes_of(cfg: Config, outcomes: Outcomes | None) -> ConfigOutcomes | None:
    """The observed outcomes that correct ``cfg``'s predictions (None: the calibrated fit alone)."""
    if not outcomes:
        return None
    return outcomes.get(outcome_key(cfg.model_id, cfg.gpu_id, cfg.engine))


def memory_workload(traffic: TrafficModel) -> Workload:
    return Workload(input_tokens=traffic.input_tokens, output_tokens=traffic.output_tokens, request_rate=1.0)


_FIT_CACHE: dict[tuple[object, ...], tuple[str | None, int, int]] = {}
_RAW_CACHE: dict[tuple[object, ...], tuple[float, ...]] = {}
_CACHE_LIMIT = 200_000


def _arch_key(arch: ModelArch) -> tuple[object, ...]:
    # Plain values: hashing and comparing frozen pydantic models field by field is slow in a hot loop.
    return (
        arch.id,
        arch.hidden_size,
        arch.num_hidden_layers,
        arch.num_key_value_heads,
        arch.intermediate_size,
        arch.num_experts,
        arch.vocab_size,
        arch.sliding_window,
    )


_PHYSICS: dict[int, tuple[ModelArch, tuple[object, ...]]] = {}
_ARCH_FIELDS = tuple(n for n in ModelArch.model_fields if n != "id")


def arch_physics(arch: ModelArch) -> tuple[object, ...]:
    """Every architecture field except the id, as plain values (memoised per object)."""
    hit = _PHYSICS.get(id(arch))
    if hit is not None and hit[0] is arch:
        return hit[1]
    key = tuple(getattr(arch, n) for n in _ARCH_FIELDS)
    if len(_PHYSICS) > _CACHE_LIMIT:
        _PHYSICS.clear()
    _PHYSICS[id(arch)] = (arch, key)
    return key


def _gpu_key(gpu: GpuSpec) -> tuple[object, ...]:
    return (gpu.id, gpu.memory_gb, gpu.mem_bw_tb_s, gpu.bf16_tflops, gpu.fp8_tflops, gpu.interconnect_gb_s)


def memory_fit(
    arch: ModelArch, gpu: GpuSpec, tp: int, precision: str, engine: str, workload: Workload
) -> tuple[str | None, int, int]:
    """(reason it does not fit or None, max concurrent sequences, KV cache tokens) from the memory model."""
    key = (
        _arch_key(arch),
        _gpu_key(gpu),
        tp,
        precision,
        engine,
        workload.input_tokens.mean,
        workload.input_tokens.upper,
        workload.output_tokens.mean,
        workload.output_tokens.upper,
    )
    hit = _FIT_CACHE.get(key)
    if hit is not None:
        return hit
    kv_dtype = mem.default_kv_dtype_bytes(precision, engine)
    plan = mem.plan_memory(
        arch,
        gpu,
        tp=tp,
        precision=precision,
        gpu_memory_utilization=GPU_MEMORY_UTILIZATION,
        max_num_batched_tokens=MAX_BATCHED_TOKENS,
        max_num_seqs=MAX_NUM_SEQS,
        kv_dtype_bytes=kv_dtype,
    )
    reason = mem.fit_reason(arch, gpu, plan, workload, tp, kv_dtype)
    if reason is not None:
        out: tuple[str | None, int, int] = (reason, 0, plan.kv_cache_tokens)
    else:
        conc = mem.max_concurrent_seqs(arch, plan, workload, tp, MAX_NUM_SEQS, kv_dtype)
        out = (None, max(1, conc), plan.kv_cache_tokens)
    if len(_FIT_CACHE) > _CACHE_LIMIT:
        _FIT_CACHE.clear()
    _FIT_CACHE[key] = out
    return out


def gpus_needed_to_fit(arch: ModelArch, gpu: GpuSpec, precision: str) -> int:
    """Rough GPU count whose memory holds the weights plus the runtime reserve (for messages)."""
    weights = mem.weight_bytes(arch, precision)
    usable = gpu.memory_gb * mem.GB * GPU_MEMORY_UTILIZATION - 2.0 * mem.GIB
    return max(1, math.ceil(weights / max(usable, 1.0)))


_RAW_FIELDS = tuple(f.name for f in fields(RawCosts))
_FACTOR_FIELDS = tuple(f.name for f in fields(Factors))


def _raw_row(arch: ModelArch, gpu: GpuSpec, tp: int, precision: str, engine: str) -> tuple[float, ...]:
    key = (_arch_key(arch), _gpu_key(gpu), tp, precision, engine)
    hit = _RAW_CACHE.get(key)
    if hit is None:
        raw = raw_costs(arch, gpu, tp, precision, mem.default_kv_dtype_bytes(precision, engine))
        hit = tuple(float(getattr(raw, n)) for n in _RAW_FIELDS)
        if len(_RAW_CACHE) > _CACHE_LIMIT:
            _RAW_CACHE.clear()
        _RAW_CACHE[key] = hit
    return hit


def _columns(rows: Sequence[tuple[float, ...]], names: Sequence[str]) -> dict[str, np.ndarray]:
    table = np.array(rows, dtype=float)
    return {n: table[:, i : i + 1] for i, n in enumerate(names)}


def length_p95(dist: LengthDist) -> float:
    if dist.kind == "fixed" or dist.cv == 0:
        return dist.mean
    sigma = math.sqrt(math.log(1.0 + dist.cv**2))
    return dist.mean * math.exp(1.6448536 * sigma - sigma**2 / 2.0)


@dataclass
class ScreenResult:
    """Per candidate (arrays of length M)."""

    capacity_rps: np.ndarray  # per replica at saturation
    slo_rps: np.ndarray  # per replica, the most that meets the screened targets (0: none)
    floor_ttft_p90: np.ndarray
    floor_tpot_p90: np.ndarray
    floor_e2e_p95: np.ndarray


def _open_loop_grid(
    raw: RawCosts,
    f: Factors,
    mb: np.ndarray,
    cap: np.ndarray,
    u: np.ndarray,
    inp: float,
    out: float,
    cv: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean TTFT and ITL at utilisations ``u`` (M×G), vectorised like perf.open_loop."""
    lam = u * cap / 1e3  # requests per ms
    ctx = inp + out / 2.0
    t_p = step_ms(raw, f, 1.0, ctx, inp, inp * inp / 2.0) - step_ms(raw, f, 1.0, ctx)
    b = np.maximum(1.0, lam * (out - 1.0) * decode_ms(raw, f, 1.0, ctx))
    rho_p = np.minimum(lam * t_p, 0.95)
    t_d = decode_ms(raw, f, b, ctx)
    for _ in range(10):
        t_d = decode_ms(raw, f, b, ctx)
        itl = t_d / (1.0 - rho_p)
        b = 0.5 * (b + np.minimum(mb, np.maximum(1.0, lam * (out - 1.0) * itl)))
    t_d = decode_ms(raw, f, b, ctx)
    itl = t_d / (1.0 - rho_p)
    service = t_d + t_p
    wait = cv**2 / 2.0 * u / (1.0 - u) * service
    # The per-request overhead (HTTP, tokenisation) is off the GPU: it adds to TTFT, not to the queue.
    return service + wait + f.request_overhead_ms, itl


def screen_metrics(
    ttft_mean: np.ndarray, itl: np.ndarray, traffic: TrafficModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Screened (TTFT p90, TPOT p90, E2E p95) from closed-form means."""
    tokens = length_p95(traffic.output_tokens)  # the p95 reply (see the module docstring)
    tpot = itl * SCREEN_TPOT_P90
    return ttft_mean * SCREEN_TTFT_P90, tpot, ttft_mean * SCREEN_TTFT_P95 + (tokens - 1.0) * tpot


_ScreenRow = tuple[float, float, float, float, float]
_SCREEN_CACHE: dict[tuple[object, ...], dict[tuple[object, ...], _ScreenRow]] = {}


def screen(
    configs: Sequence[Config],
    traffic: TrafficModel,
    targets: Targets,
    calibration: Calibration | None = None,
    outcomes: Outcomes | None = None,
) -> ScreenResult:
    """Closed-form screening of all configurations at once.

    The result does not depend on the request rate (it is per replica), so it is cached per configuration,
    lengths, burstiness and targets: re-planning with another load reuses it. A configuration with observed
    ``outcomes`` is screened with its latencies and capacity scaled by their factors (as the full model's
    predictions are), and cached under their fingerprint as well.
    """
    cal = calibration or default_calibration()
    if not configs:
        empty = np.zeros(0)
        return ScreenResult(empty, empty, empty, empty, empty)
    context = (
        id(cal),
        traffic.input_tokens,
        traffic.output_tokens,
        traffic.burstiness_cv,
        traffic.streaming,
        targets.ttft_p90_ms,
        targets.tpot_p90_ms,
        targets.e2e_p95_ms,
    )
    # Two levels, so that the context (pydantic length distributions) is hashed once per call, not per row.
    cache = _SCREEN_CACHE.get(context)
    if cache is None:
        if len(_SCREEN_CACHE) > 64:
            _SCREEN_CACHE.clear()
        cache = _SCREEN_CACHE[context] = {}
    corrected = [outcomes_of(c, outcomes) for c in configs] if outcomes else [None] * len(configs)
    keys = [c.key if o is None else (c.key, o.fingerprint) for c, o in zip(configs, corrected, strict=True)]
    missing = [i for i, k in enumerate(keys) if k not in cache]
    if missing:
        fresh = _screen([configs[i] for i in missing], traffic, targets, cal, [corrected[i] for i in missing])
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for j, i in enumerate(missing):
            cache[keys[i]] = (
                float(fresh.capacity_rps[j]),
                float(fresh.slo_rps[j]),
                float(fresh.floor_ttft_p90[j]),
                float(fresh.floor_tpot_p90[j]),
                float(fresh.floor_e2e_p95[j]),
            )
    table = np.array([cache[k] for k in keys], dtype=float)
    return ScreenResult(table[:, 0], table[:, 1], table[:, 2], table[:, 3], table[:, 4])


def _screen(
    configs: Sequence[Config],
    traffic: TrafficModel,
    targets: Targets,
    cal: Calibration,
    corrected: Sequence[ConfigOutcomes | None],
) -> ScreenResult:
    raw = RawCosts(
        **_columns([_raw_row(c.arch, c.gpu, c.tp, c.precision, c.engine) for c in configs], _RAW_FIELDS)
    )
    per_gpu: dict[tuple[str, str, str], tuple[float, ...]] = {}
    rows = []
    for c in configs:
        k = (c.gpu.id, c.gpu.family, c.engine)
        if k not in per_gpu:
            fac = cal.factors(*k)
            per_gpu[k] = tuple(float(getattr(fac, n)) for n in _FACTOR_FIELDS)
        rows.append(per_gpu[k])
    f = Factors(**_columns(rows, _FACTOR_FIELDS))
    mb = np.array([float(c.max_batch) for c in configs])[:, None]
    inp, out = traffic.input_tokens.mean, traffic.output_tokens.mean
    cap = np.asarray(closed_loop(raw, f, mb, inp, out, mb).requests_per_s, dtype=float)  # (M,1)
    u = U_GRID[None, :]
    ttft, itl = _open_loop_grid(raw, f, mb, cap, u, inp, out, traffic.burstiness_cv)
    if any(o is not None for o in corrected):
        # Observed outcomes: at a given utilisation, latencies are their factor longer and the capacity
        # their factor lower (the full model's predictions are corrected the same way).
        scale = np.array([o.factors if o is not None else (1.0, 1.0, 1.0) for o in corrected], dtype=float)
        ttft = ttft * scale[:, 0:1]
        itl = itl * scale[:, 1:2]
        cap = cap * scale[:, 2:3]
    t90, p90, e95 = screen_metrics(ttft, itl, traffic)
    ok = (t90 <= targets.ttft_p90_ms) & (p90 <= targets.tpot_p90_ms) & (e95 <= targets.e2e_p95_ms)
    # Latency grows with load, so the passing utilisations form a prefix of the grid.
    prefix = np.cumprod(ok, axis=1).astype(bool)
    idx = prefix.sum(axis=1) - 1
    u_star = np.where(idx >= 0, U_GRID[np.maximum(idx, 0)], 0.0)
    return ScreenResult(
        capacity_rps=cap[:, 0],
        slo_rps=u_star * cap[:, 0],
        floor_ttft_p90=t90[:, 0],
        floor_tpot_p90=p90[:, 0],
        floor_e2e_p95=e95[:, 0],
    )


# --- full percentile model -------------------------------------------------------------------------------


def workload_at(traffic: TrafficModel, rate: float) -> Workload:
    return Workload(
        input_tokens=traffic.input_tokens,
        output_tokens=traffic.output_tokens,
        request_rate=rate,
        arrival="gamma" if traffic.arrival == "gamma" else "poisson",
        burstiness=traffic.gamma_shape,
    )


_PREDICTIONS: dict[tuple[object, ...], Prediction] = {}
# Per configuration, traffic shape, targets and calibration: the highest per-replica rate known to meet the
# targets and the lowest known to miss them.
_VERDICTS: dict[tuple[object, ...], list[float]] = {}
_PREDICTION_LIMIT = 20_000


def full_predict(
    cfg: Config,
    traffic: TrafficModel,
    rate: float,
    calibration: Calibration | None = None,
    outcomes: ConfigOutcomes | None = None,
) -> Prediction:
    """The full percentile model at ``rate`` requests/s per replica, corrected by ``outcomes`` if given.

    Memoised on the configuration's physics rather than its model id, so that models sharing one
    architecture (fine-tunes, generated catalogs) share predictions; predictions that do not fit carry the
    model's name in their reason and are not shared. The memo holds physics only: observed outcomes belong
    to one (model, GPU, engine) and are applied to the prediction after the lookup.
    """
    pred = _physics_predict(cfg, traffic, rate, calibration)
    return pred if outcomes is None else outcomes.apply(pred)


def _physics_predict(
    cfg: Config, traffic: TrafficModel, rate: float, calibration: Calibration | None
) -> Prediction:
    cal = calibration or default_calibration()
    workload = workload_at(traffic, rate)
    key = (cfg.physics, workload, id(cal))
    hit = _PREDICTIONS.get(key)
    if hit is not None:
        return hit
    pred = predict(
        cfg.arch,
        cfg.gpu,
        workload,
        tp=cfg.tp,
        precision=cfg.precision,
        engine=cfg.engine,
        calibration=cal,
        measured=list(cfg.measured) or None,
        full=True,
        max_num_seqs=MAX_NUM_SEQS,
        max_num_batched_tokens=MAX_BATCHED_TOKENS,
        gpu_memory_utilization=GPU_MEMORY_UTILIZATION,
        seed=0,
    )
    if pred.fits and pred.reason is None:
        if len(_PREDICTIONS) > _PREDICTION_LIMIT:
            _PREDICTIONS.clear()
        _PREDICTIONS[key] = pred
    return pred


def slo_values(pred: Prediction, traffic: TrafficModel) -> tuple[float, float, float]:
    """(TTFT p90, TPOT p90, E2E p95) of a full prediction, E2E as defined in the module docstring."""
    assert pred.ttft_ms is not None and pred.tpot_ms is not None and pred.e2e_ms is not None
    return pred.ttft_ms.p90, pred.tpot_ms.p90, pred.e2e_ms.p95


def meets(pred: Prediction, traffic: TrafficModel, targets: Targets) -> bool:
    if not pred.fits or pred.saturated or pred.ttft_ms is None:
        return False
    ttft, tpot, e2e = slo_values(pred, traffic)
    return ttft <= targets.ttft_p90_ms and tpot <= targets.tpot_p90_ms and e2e <= targets.e2e_p95_ms


@dataclass
class Sized:
    replicas: int  # fewest meeting the targets (no headroom)
    prediction: Prediction | None  # at ``replicas``; None only when the caller did not need it
    evaluations: int


def size_full(
    cfg: Config,
    traffic: TrafficModel,
    targets: Targets,
    rate: float,
    start: int,
    *,
    max_replicas: int,
    calibration: Calibration | None = None,
    need_prediction: bool = True,
    outcomes: ConfigOutcomes | None = None,
) -> Sized | None:
    """Fewest replicas (≥ 1, ≤ max_replicas) whose full prediction at ``rate / n`` meets the targets.

    The search already assumes that latency grows with the per-replica rate (it bisects), so verdicts are
    reused under the same assumption instead of rerunning the model: a rate at or above one known to miss the
    targets misses them, and (when the caller does not need the prediction itself) a rate at or below one
    known to meet them meets them. Verdicts are kept across calls for the same configuration, lengths,
    arrival process, targets and calibration, and under the fingerprint of the observed ``outcomes`` that
    correct the predictions (a corrected configuration never reuses the uncorrected verdicts).
    """
    cal = calibration or default_calibration()
    vkey = (
        cfg.physics,
        traffic.input_tokens,
        traffic.output_tokens,
        traffic.arrival,
        traffic.gamma_shape,
        traffic.streaming,
        targets.ttft_p90_ms,
        targets.tpot_p90_ms,
        targets.e2e_p95_ms,
        id(cal),
        None if outcomes is None else outcomes.fingerprint,
    )
    known = _VERDICTS.get(vkey)
    if known is None:
        if len(_VERDICTS) > _PREDICTION_LIMIT:
            _VERDICTS.clear()
        known = _VERDICTS[vkey] = [0.0, math.inf]  # [highest meeting rate, lowest missing rate]
    cache: dict[int, Prediction] = {}
    verdict: dict[int, bool] = {}

    def ok(n: int) -> bool:
        if n in verdict:
            return verdict[n]
        r = rate / n
        if r >= known[1]:
            verdict[n] = False
        elif not need_prediction and r <= known[0]:
            verdict[n] = True
        else:
            cache[n] = full_predict(cfg, traffic, r, cal, outcomes)
            verdict[n] = meets(cache[n], traffic, targets)
            if verdict[n]:
                known[0] = max(known[0], r)
            else:
                known[1] = min(known[1], r)
        return verdict[n]

    n = max(1, min(start, max_replicas))
    if ok(n):
        while n > 1 and ok(n - 1):
            n -= 1
        return Sized(n, cache.get(n), len(cache))
    lo, hi = n, n
    while True:  # grow until it meets (exponential search), then bisect
        if hi >= max_replicas:
            return None
        lo, hi = hi, min(max_replicas, max(hi + 1, int(hi * 1.5)))
        if ok(hi):
            break
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return Sized(hi, cache.get(hi), len(cache))


# --- SLO checks with intervals ---------------------------------------------------------------------------


def _band(interval: tuple[float, float] | None, center: float, value: float) -> tuple[float, float] | None:
    """The prediction's 80% band, moved from the mean it was computed at to ``value`` (same ratios)."""
    if interval is None or center <= 0:
        return None
    return (value * interval[0] / center, value * interval[1] / center)


def slo_checks(
    pred: Prediction, traffic: TrafficModel, targets: Targets, capacity_rps: float
) -> list[SloCheck]:
    """Each target against its prediction; 'uncertain' when the 80% interval straddles the target."""
    ttft, tpot, e2e = slo_values(pred, traffic)
    assert pred.ttft_ms is not None and pred.tpot_ms is not None
    iv = pred.interval
    ttft_band = _band(iv.ttft_ms if iv else None, pred.ttft_ms.mean, ttft)
    tpot_band = _band(iv.tpot_ms if iv else None, pred.tpot_ms.mean, tpot)
    e2e_band = None
    if ttft_band and tpot_band and e2e > 0:
        # Split E2E into its first-token and per-token parts and move each with its own band.
        first = min(ttft, e2e)
        rest = e2e - first
        e2e_band = (
            first * ttft_band[0] / ttft + rest * tpot_band[0] / tpot,
            first * ttft_band[1] / ttft + rest * tpot_band[1] / tpot,
        )
    checks = [
        _check("ttft_p90_ms", targets.ttft_p90_ms, ttft, ttft_band),
        _check("tpot_p90_ms", targets.tpot_p90_ms, tpot, tpot_band),
        _check("e2e_p95_ms", targets.e2e_p95_ms, e2e, e2e_band),
    ]
    if targets.throughput_rps:
        verdict = "meets" if capacity_rps >= targets.throughput_rps else "misses"
        checks.append(
            SloCheck(
                metric="throughput_rps",
                target=targets.throughput_rps,
                predicted=round(capacity_rps, 3),
                verdict=verdict,
            )
        )
    return checks


def _check(metric: str, target: float, value: float, band: tuple[float, float] | None) -> SloCheck:
    if value > target:
        verdict = "misses"
    elif band is not None and band[1] > target:
        verdict = "uncertain"
    else:
        verdict = "meets"
    return SloCheck(
        metric=metric,
        target=target,
        predicted=round(value, 3),
        interval=(round(band[0], 3), round(band[1], 3)) if band else None,
        verdict=verdict,
    )


def headroom(replicas: int, reliability_pct: float) -> tuple[int, str]:
    """Spare replicas for the availability target: N+2 from 99.99%, N+1 from 99.9%, none below."""
    if reliability_pct >= 99.99:
        return 2, f"N+2 for {reliability_pct:g}%"
    if reliability_pct >= 99.9:
        return 1, f"N+1 for {reliability_pct:g}%"
    return 0, f"no spare replica (availability target {reliability_pct:g}% < 99.9%)"
