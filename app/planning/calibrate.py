"""Fit the efficiency factors of the physics model on benchmark records (pure: no I/O).

Records are dicts shaped like ``serving_measurements.json`` rows. The caller passes lookups that turn a
record's model and GPU names into ``ModelArch`` / ``GpuSpec``. The fit is a regularised Levenberg-Marquardt
on log errors with a hierarchy GPU → GPU family → global, so a GPU without data falls back to its family.
Interval widths come from out-of-fold residuals (grouped by model), never from the rows the fit saw.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from app.planning.memory import default_kv_dtype_bytes, kv_bytes_for_sequence, plan_memory
from app.planning.perf import Factors, RawCosts, closed_loop, offline, raw_costs, static_batch
from app.planning.types import GpuSpec, ModelArch

log = logging.getLogger(__name__)

METRICS = ("ttft_ms", "tpot_ms", "output_tokens_per_s")

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
}

ENGINE_KEYS = ("trtllm", "vllm")


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
    """One benchmark record, normalised for the model."""

    index: int
    source: str
    model: str
    gpu: str
    family: str
    tp: int
    precision: str
    engine: str
    scenario: str  # static_batch | closed_loop | offline | open_loop
    batch: float  # batch size / concurrency / offline batch
    inp: float
    out: float
    rate: float  # requests/s for open loop
    n_prompts: float
    truth: dict[str, float]
    raw: RawCosts
    max_batch: float


def _truths(rec: dict[str, Any], scenario: str, out: float, tp: int) -> dict[str, float]:
    t: dict[str, float] = {}
    if rec.get("ttft_ms_mean") and scenario != "offline":
        t["ttft_ms"] = float(rec["ttft_ms_mean"])
    tpot = rec.get("tpot_ms_mean") or rec.get("itl_ms_mean")
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
            gpu = get_gpu(rec["gpu"])
        except ValueError as e:
            log.info("skipping record %d: %s", i, e)
            continue
        engine = canonical_engine(str(rec.get("engine", "")))
        tp = int(rec.get("tp") or 1)
        source = str(rec.get("source", ""))
        n_prompts = float(rec.get("num_prompts") or 0)
        if source == "trtllm_dli_csv":
            scenario = "static_batch"
        elif rec.get("request_rate"):
            scenario = "open_loop"
        elif rec.get("scenario", "").startswith("offline") or rec.get("concurrency") is None:
            scenario = "offline"
        else:
            scenario = "closed_loop"
        inp = float(rec.get("input_tokens") or 0)
        out = float(rec.get("output_tokens") or 0)
        if scenario == "open_loop" and n_prompts:
            inp = float(rec.get("total_input_tokens", 0)) / n_prompts
            out = float(rec.get("total_output_tokens", 0)) / n_prompts
        if inp <= 0 or out <= 0:
            continue
        kv_bytes = default_kv_dtype_bytes(precision, engine)
        if scenario in ("offline", "open_loop"):
            # Engines run as many sequences as the KV cache holds (TRT-LLM bench: up to 2048; vLLM: flags).
            seqs_cap = 512.0 if engine == "vllm" else 2048.0
            plan = plan_memory(
                arch,
                gpu,
                tp=tp,
                precision=precision,
                kv_dtype_bytes=kv_bytes,
                gpu_memory_utilization=0.9 if engine == "vllm" else 0.95,
            )
            per_seq = kv_bytes_for_sequence(arch, inp + out, tp, kv_bytes)
            max_batch = max(1.0, min(seqs_cap, plan.kv_cache / per_seq if per_seq else seqs_cap))
            if scenario == "offline" and rec.get("concurrency"):
                max_batch = min(max_batch, float(rec["concurrency"]))
        else:
            max_batch = float(rec.get("concurrency") or 1)
        truth = _truths(rec, scenario, out, tp)
        if not truth:
            continue
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
                raw=raw_costs(arch, gpu, tp, precision, kv_bytes),
                max_batch=max_batch,
            )
        )
    return cases


class EngineFactors(BaseModel):
    step_overhead_ms: float
    layer_overhead_ms: float
    bw_mult: float = 1.0
    flops_mult: float = 1.0


class Calibration(BaseModel):
    """Fitted efficiency factors with fit statistics; JSON-serialisable."""

    version: int = 1
    gpu_bw_eff: dict[str, float] = Field(default_factory=dict)
    gpu_flops_eff: dict[str, float] = Field(default_factory=dict)
    family_bw_eff: dict[str, float] = Field(default_factory=dict)
    family_flops_eff: dict[str, float] = Field(default_factory=dict)
    global_bw_eff: float = 0.75
    global_flops_eff: float = 0.55
    engines: dict[str, EngineFactors] = Field(
        default_factory=lambda: {
            "trtllm": EngineFactors(step_overhead_ms=0.3, layer_overhead_ms=0.004),
            "vllm": EngineFactors(step_overhead_ms=1.5, layer_overhead_ms=0.006, bw_mult=0.9, flops_mult=0.9),
        }
    )
    allreduce_latency_ms: float = 0.012
    link_eff: float = 0.6
    fp8_eff: float = 0.8
    kv_eff: float = 1.0
    prefill_sync: float = 0.5
    n_records: int = 0
    fit_stats: dict[str, Any] = Field(default_factory=dict)
    residual_quantiles: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {m: (-0.3, 0.3) for m in METRICS},
        description="10th and 90th percentile of out-of-fold log(truth/prediction) per metric",
    )

    def factors(self, gpu: str, family: str, engine: str) -> Factors:
        """Factors for a GPU and engine; unknown GPUs use their family, then the global value."""
        eng_key = "vllm" if engine == "sglang" else engine
        eng = self.engines.get(eng_key) or self.engines["trtllm"]
        bw = self.gpu_bw_eff.get(gpu) or self.family_bw_eff.get(family) or self.global_bw_eff
        fl = self.gpu_flops_eff.get(gpu) or self.family_flops_eff.get(family) or self.global_flops_eff
        step = eng.step_overhead_ms
        if engine == "sglang":
            # No SGLang rows: published comparisons put it between vLLM and TensorRT-LLM. A prior, not a fit.
            step *= 0.8
        return Factors(
            bw_eff=min(bw * eng.bw_mult, 0.98),
            flops_eff=min(fl * eng.flops_mult, 0.95),
            fp8_eff=self.fp8_eff,
            step_overhead_ms=step,
            layer_overhead_ms=eng.layer_overhead_ms,
            allreduce_latency_ms=self.allreduce_latency_ms,
            link_eff=self.link_eff,
            kv_eff=self.kv_eff,
            prefill_sync=self.prefill_sync,
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
    eng_idx: np.ndarray
    gpus: list[str]
    fams: list[str]
    batch: np.ndarray
    inp: np.ndarray
    out: np.ndarray
    rate: np.ndarray
    n_prompts: np.ndarray
    max_batch: np.ndarray
    scen: np.ndarray
    truth: dict[str, np.ndarray]
    weight: dict[str, np.ndarray]


def _design(cases: Sequence[Case], gpus: list[str], fams: list[str]) -> _Design:
    cl = list(cases)
    scen_code = {"static_batch": 0, "closed_loop": 1, "offline": 2, "open_loop": 3}
    truth = {m: np.array([c.truth.get(m, np.nan) for c in cl]) for m in METRICS}
    weight: dict[str, np.ndarray] = {}
    sources = np.array([c.source for c in cl])
    for m in METRICS:
        w = np.zeros(len(cl))
        has = ~np.isnan(truth[m])
        for s in set(sources):
            sel = has & (sources == s)
            if sel.any():
                w[sel] = 1.0 / math.sqrt(sel.sum())  # each source weighs ~sqrt(rows), not rows
        weight[m] = w
    return _Design(
        cases=cl,
        raw=_stack_raw(cl),
        gpu_idx=np.array([gpus.index(c.gpu) if c.gpu in gpus else -1 for c in cl]),
        fam_idx=np.array([fams.index(c.family) if c.family in fams else -1 for c in cl]),
        eng_idx=np.array([ENGINE_KEYS.index("vllm" if c.engine == "vllm" else "trtllm") for c in cl]),
        gpus=gpus,
        fams=fams,
        batch=np.array([c.batch for c in cl]),
        inp=np.array([c.inp for c in cl]),
        out=np.array([c.out for c in cl]),
        rate=np.array([c.rate for c in cl]),
        n_prompts=np.array([c.n_prompts for c in cl]),
        max_batch=np.array([c.max_batch for c in cl]),
        scen=np.array([scen_code[c.scenario] for c in cl]),
        truth=truth,
        weight=weight,
    )


class _Params:
    """Layout of the parameter vector (log-space)."""

    def __init__(self, gpus: list[str], fams: list[str]) -> None:
        self.gpus, self.fams = gpus, fams
        self.n_g, self.n_f = len(gpus), len(fams)
        i = 0
        self.glob = slice(i, i + 2)
        i += 2
        self.fam = slice(i, i + 2 * self.n_f)
        i += 2 * self.n_f
        self.gpu = slice(i, i + 2 * self.n_g)
        i += 2 * self.n_g
        self.eng = slice(i, i + 4 * len(ENGINE_KEYS))
        i += 4 * len(ENGINE_KEYS)
        self.misc = slice(i, i + 5)
        i += 5
        self.size = i

    def initial(self) -> np.ndarray:
        x = np.zeros(self.size)
        x[self.glob] = [math.log(0.75), math.log(0.55)]
        eng = np.array(
            [
                math.log(0.3),
                math.log(0.004),
                0.0,
                0.0,
                math.log(1.5),
                math.log(0.006),
                math.log(0.9),
                math.log(0.9),
            ]
        )
        x[self.eng] = eng
        x[self.misc] = [math.log(0.012), math.log(0.6), math.log(0.8), 0.0, math.log(0.5)]
        return x

    def penalties(self, x: np.ndarray, vllm_rows: int) -> np.ndarray:
        fam = x[self.fam] / 0.3
        gpu = x[self.gpu] / 0.15
        eng = x[self.eng].reshape(len(ENGINE_KEYS), 4)
        init = self.initial()[self.eng].reshape(len(ENGINE_KEYS), 4)
        # trtllm's bandwidth/flops multipliers are the reference (fixed near 1); vLLM's stay near their
        # priors unless vLLM rows pull them: the prior is as strong as a handful of rows.
        pri = [
            (eng[0, 2:] - 0.0) / 0.01,
            (eng[0, :2] - init[0, :2]) / 1.5,
            (eng[1, :2] - init[1, :2]) / (0.5 if vllm_rows else 0.05),
            (eng[1, 2:] - init[1, 2:]) / (0.15 if vllm_rows else 0.02),
        ]
        misc = (x[self.misc] - self.initial()[self.misc]) / 1.0
        return np.concatenate([fam, gpu, *pri, misc])

    def factors(self, x: np.ndarray, d: _Design) -> Factors:
        g2 = x[self.gpu].reshape(max(self.n_g, 1), 2) if self.n_g else np.zeros((1, 2))
        f2 = x[self.fam].reshape(max(self.n_f, 1), 2) if self.n_f else np.zeros((1, 2))
        gsel = np.where(d.gpu_idx[:, None] >= 0, g2[np.maximum(d.gpu_idx, 0)], 0.0)
        fsel = np.where(d.fam_idx[:, None] >= 0, f2[np.maximum(d.fam_idx, 0)], 0.0)
        eng = x[self.eng].reshape(len(ENGINE_KEYS), 4)[d.eng_idx]
        log_bw = x[self.glob][0] + fsel[:, 0] + gsel[:, 0] + eng[:, 2]
        log_fl = x[self.glob][1] + fsel[:, 1] + gsel[:, 1] + eng[:, 3]
        misc = np.exp(x[self.misc])
        return Factors(
            bw_eff=np.minimum(np.exp(log_bw), 0.98),  # type: ignore[arg-type]
            flops_eff=np.minimum(np.exp(log_fl), 0.95),  # type: ignore[arg-type]
            step_overhead_ms=np.exp(eng[:, 0]),  # type: ignore[arg-type]
            layer_overhead_ms=np.exp(eng[:, 1]),  # type: ignore[arg-type]
            allreduce_latency_ms=float(misc[0]),
            link_eff=float(min(misc[1], 1.0)),
            fp8_eff=float(min(misc[2], 1.2)),
            kv_eff=float(misc[3]),
            prefill_sync=float(misc[4]),
        )


def predict_cases(raw: RawCosts, f: Factors, d: _Design) -> dict[str, np.ndarray]:
    """Closed-form predictions for every case, vectorised per scenario."""
    sb = static_batch(raw, f, d.batch, d.inp, d.out)
    cl = closed_loop(raw, f, d.batch, d.inp, d.out, d.max_batch)
    off = offline(raw, f, d.max_batch, d.inp, d.out)
    # Open loop rows (ShareGPT at fixed rates): below capacity use the open-loop fixed point through the
    # closed-loop form at the Little's-law batch; at or above capacity a finite run of n prompts queues,
    # and the mean wait is n/2 × (1/μ − 1/λ).
    cap = off.requests_per_s
    lam = d.rate
    sat = lam >= cap
    b_ol = np.clip(lam * off.e2e_ms / 1e3, 1.0, d.max_batch)
    ol = closed_loop(raw, f, b_ol, d.inp, d.out, d.max_batch)
    wait = np.where(
        sat, d.n_prompts / 2.0 * (1.0 / np.maximum(cap, 1e-9) - 1.0 / np.maximum(lam, 1e-9)) * 1e3, 0
    )
    ol_ttft = np.where(sat, off.ttft_ms / np.maximum(d.max_batch, 1) + wait, ol.ttft_ms)
    ol_tpot = np.where(sat, off.tpot_ms, ol.tpot_ms)
    ol_thr = np.where(sat, off.output_tokens_per_s, lam * d.out)
    s = d.scen
    return {
        "ttft_ms": np.select([s == 0, s == 1, s == 2], [sb.ttft_ms, cl.ttft_ms, off.ttft_ms], ol_ttft),
        "tpot_ms": np.select([s == 0, s == 1, s == 2], [sb.tpot_ms, cl.tpot_ms, off.tpot_ms], ol_tpot),
        "output_tokens_per_s": np.select(
            [s == 0, s == 1, s == 2],
            [sb.output_tokens_per_s, cl.output_tokens_per_s, off.output_tokens_per_s],
            ol_thr,
        ),
    }


def _residuals(x: np.ndarray, p: _Params, d: _Design, vllm_rows: int) -> np.ndarray:
    pred = predict_cases(d.raw, p.factors(x, d), d)
    parts = []
    for m in METRICS:
        has = d.weight[m] > 0
        r = np.log(np.maximum(pred[m][has], 1e-9) / d.truth[m][has]) * d.weight[m][has]
        parts.append(r)
    parts.append(p.penalties(x, vllm_rows) * 0.3)
    return np.concatenate(parts)


def _lm(fun: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, iters: int = 40) -> tuple[np.ndarray, float]:
    """Levenberg-Marquardt with a forward-difference Jacobian (no SciPy needed)."""
    x = x0.copy()
    r = fun(x)
    cost = float(r @ r)
    lam = 1e-2
    eps = 1e-4
    for _ in range(iters):
        jac = np.empty((len(r), len(x)))
        for j in range(len(x)):
            xj = x.copy()
            xj[j] += eps
            jac[:, j] = (fun(xj) - r) / eps
        jtj = jac.T @ jac
        g = jac.T @ r
        improved = False
        for _ in range(8):
            step = np.linalg.solve(jtj + lam * np.diag(np.diag(jtj) + 1e-9), -g)
            xn = x + step
            rn = fun(xn)
            cn = float(rn @ rn)
            if cn < cost:
                x, r, cost = xn, rn, cn
                lam = max(lam / 3.0, 1e-7)
                improved = True
                break
            lam *= 4.0
        if not improved or float(np.abs(step).max()) < 1e-4:
            break
    return x, cost


def _to_calibration(x: np.ndarray, p: _Params, n: int) -> Calibration:
    g2 = x[p.gpu].reshape(p.n_g, 2) if p.n_g else np.zeros((0, 2))
    f2 = x[p.fam].reshape(p.n_f, 2) if p.n_f else np.zeros((0, 2))
    glob = x[p.glob]
    fam_of_gpu = getattr(p, "fam_of_gpu", {})
    eng = x[p.eng].reshape(len(ENGINE_KEYS), 4)
    misc = np.exp(x[p.misc])
    cal = Calibration(
        global_bw_eff=float(math.exp(glob[0])),
        global_flops_eff=float(math.exp(glob[1])),
        family_bw_eff={f: float(math.exp(glob[0] + f2[i, 0])) for i, f in enumerate(p.fams)},
        family_flops_eff={f: float(math.exp(glob[1] + f2[i, 1])) for i, f in enumerate(p.fams)},
        gpu_bw_eff={},
        gpu_flops_eff={},
        engines={
            e: EngineFactors(
                step_overhead_ms=float(math.exp(eng[k, 0])),
                layer_overhead_ms=float(math.exp(eng[k, 1])),
                bw_mult=float(math.exp(eng[k, 2])),
                flops_mult=float(math.exp(eng[k, 3])),
            )
            for k, e in enumerate(ENGINE_KEYS)
        },
        allreduce_latency_ms=float(misc[0]),
        link_eff=float(min(misc[1], 1.0)),
        fp8_eff=float(min(misc[2], 1.2)),
        kv_eff=float(misc[3]),
        prefill_sync=float(misc[4]),
        n_records=n,
    )
    for i, gname in enumerate(p.gpus):
        fi = p.fams.index(fam_of_gpu[gname]) if gname in fam_of_gpu else None
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
    p = _Params(gpus, fams)
    p.fam_of_gpu = {c.gpu: c.family for c in cases}  # type: ignore[attr-defined]
    d = _design(cases, gpus, fams)
    vllm_rows = sum(1 for c in cases if c.engine == "vllm")
    start = p.initial() if x0 is None or len(x0) != p.size else x0
    x, cost = _lm(lambda v: _residuals(v, p, d, vllm_rows), start, iters)
    cal = _to_calibration(x, p, len(cases))
    pred = predict_cases(d.raw, p.factors(x, d), d)
    stats: dict[str, Any] = {"cost": cost, "rows": len(cases), "vllm_rows": vllm_rows}
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
    fac = [cal.factors(c.gpu, c.family, c.engine) for c in cases]
    arr = Factors(**{k: np.array([getattr(f, k) for f in fac]) for k in Factors.__dataclass_fields__})
    return predict_cases(d.raw, arr, d)


def fit(cases: Sequence[Case], *, folds: int = 4, iters: int = 40) -> Calibration:
    """Fit on all cases, then estimate 80% interval widths from out-of-fold residuals grouped by model."""
    cal, x = _fit_once(cases, iters=iters)
    models = sorted({c.model for c in cases})
    if len(models) < 2 or folds < 2:
        return cal
    groups = {m: i % folds for i, m in enumerate(models)}
    resid: dict[str, list[float]] = {m: [] for m in METRICS}
    for k in range(min(folds, len(models))):
        train = [c for c in cases if groups[c.model] != k]
        test = [c for c in cases if groups[c.model] == k]
        if not train or not test:
            continue
        sub, _ = _fit_once(train, x0=None, iters=max(iters // 2, 10))
        pred = predict_with(sub, test)
        for m in METRICS:
            for c, v in zip(test, pred[m], strict=True):
                if m in c.truth and v > 0 and np.isfinite(v):
                    resid[m].append(math.log(c.truth[m] / v))
    quant: dict[str, tuple[float, float]] = {}
    for m in METRICS:
        if len(resid[m]) >= 10:
            lo, hi = np.percentile(resid[m], [10, 90])
            quant[m] = (float(lo), float(hi))
        else:
            quant[m] = (-0.3, 0.3)
    cal.residual_quantiles = quant
    cal.fit_stats["oof_rows"] = {m: len(v) for m, v in resid.items()}
    return cal


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
