"""Accuracy of the performance model on published measurements it did not see.

Leave-one-model-out over both published files: ../shared/data/published/serving_measurements.json
(TensorRT-LLM/NIM, vLLM 0.6.3) and vllm_modern_measurements.json (vLLM 0.9-0.15, normalised by
app.perf.vllm_records). For each model: fit the calibration on every other model's rows, replay the held-out
rows through ``predict()`` (the function the CLI and the recommender call) and compare its means with the
truth. Interval coverage is cross-validated too: the band a held-out model gets is built from the other
models' held-out residuals only.

Reported: median absolute % error per metric and family; on modern vLLM the issue's targets (TPOT on every
row, TTFT on non-saturated rows with known conditions, throughput on saturated bursts) with n; interval
coverage per family; and Preflight against the uncalibrated roofline (datasheet peaks, prior efficiencies)
on the vLLM rows by GPU and TP.

    .venv/bin/python benchmarks/accuracy.py            # ~15-25 min on 2 busy cores
    .venv/bin/python benchmarks/accuracy.py --quick    # fewer iterations (~8 min)
    .venv/bin/python benchmarks/accuracy.py --write    # then fit all rows -> app/perf/calibration.json
    .venv/bin/python benchmarks/accuracy.py --quick --vllm-only   # hold out only the modern vLLM models
        (every fold still fits on all other rows; a development loop, not the reported figure)
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.perf import calibrate as C
from app.perf.predict import CALIBRATION_FILE, predict
from app.perf.types import LengthDist, Prediction, RunConditions, Workload
from app.perf.vllm_records import normalise
from app.planning.catalog import default_catalog

log = logging.getLogger("accuracy")


def published(name: str) -> Path:
    """shared/data/published/<name> next to the repository (worktrees sit one level deeper)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "published" / name
        if candidate.exists():
            return candidate
    raise SystemExit(f"cannot find shared/data/published/{name} above {Path(__file__).parent}")


def replay(case: C.Case, cal: C.Calibration, full: bool) -> Prediction:
    """Run one published row through predict() with the conditions it was measured under."""
    assert case.arch is not None and case.gpu_spec is not None
    if case.out_cv == 0:
        out_len = LengthDist(mean=case.out)
    else:
        out_len = LengthDist(mean=case.out, kind="lognormal", cv=case.out_cv)
    lengths = {
        "input_tokens": LengthDist(mean=case.inp),
        "output_tokens": out_len,
        "prefix_cached_tokens": case.cached,
    }
    if case.scenario == "open_loop":
        arrival = "constant" if case.arrival_cv == 0 else "poisson"
        workload = Workload(**lengths, request_rate=case.rate, arrival=arrival)
    elif case.scenario == "closed_loop":
        workload = Workload(**lengths, concurrency=int(case.batch))
    elif case.scenario == "offline":
        workload = Workload(**lengths, concurrency=case.max_num_seqs, scenario="offline")
    elif case.scenario == "burst":
        workload = Workload(**lengths, concurrency=int(case.n_prompts), scenario="burst")
    else:
        workload = Workload(**lengths, concurrency=int(case.batch), scenario=case.scenario)
    return predict(
        case.arch,
        case.gpu_spec,
        workload,
        tp=case.tp,
        precision=case.precision,
        engine=case.engine,
        calibration=cal,
        full=full,
        max_num_seqs=case.max_num_seqs,
        max_num_batched_tokens=int(case.budget),
        gpu_memory_utilization=case.mem_util,
        conditions=RunConditions(
            stack=case.stack,
            eager=case.eager,
            degenerate_routing=case.degenerate_routing,
            mha_fallback=case.mha_fallback,
            n_prompts=int(case.n_prompts),
            kv_dtype_bytes=case.kv_bytes,
            client=case.source,
        ),
    )


def _values(pred: Prediction) -> dict[str, float]:
    if not pred.fits or pred.ttft_ms is None or pred.tpot_ms is None:
        return {}
    return {
        "ttft_ms": pred.ttft_ms.mean,
        "tpot_ms": pred.tpot_ms.mean,
        "output_tokens_per_s": pred.output_tokens_per_s or 0.0,
        "capacity": pred.capacity_output_tokens_per_s or 0.0,
    }


def family(case: C.Case) -> str:
    if case.stack == "vllm-v1" or case.source in ("gpustack_perflab", "infperf_kubecon2025"):
        return "vllm-modern"
    return "vllm-0.6" if case.engine == "vllm" else "trtllm/nim"


def scored(case: C.Case, metric: str) -> bool:
    """Whether a truth is scored: an unsaturated open loop's throughput is the offered rate (nothing to
    predict), and on modern vLLM TTFT counts only where the server kept up and conditions are known."""
    if metric == "output_tokens_per_s" and case.scenario == "open_loop" and not case.saturated:
        return False
    return not (metric == "ttft_ms" and family(case) == "vllm-modern" and case.saturated)


Row = tuple[C.Case, str, float, float]  # case, metric, prediction, truth


def leave_one_model_out(
    cases: list[C.Case], iters: int, full: bool, only: Sequence[str] = (), modern_only: bool = False
) -> list[Row]:
    """Held-out predictions of every scored truth (of the ``only`` models when given; of the models with
    modern vLLM rows when ``modern_only``)."""
    _, x_all = C.fit_vector(cases, iters=iters)
    kernels = kernel_factors()
    rows: list[Row] = []
    wanted = {c.model for c in cases if family(c) == "vllm-modern"} if modern_only else None
    models = sorted(
        {
            c.model
            for c in cases
            if (not only or any(o in c.model for o in only)) and (wanted is None or c.model in wanted)
        }
    )
    for i, held in enumerate(models):
        t0 = time.time()
        train = [c for c in cases if c.model != held]
        test = [c for c in cases if c.model == held and (wanted is None or family(c) == "vllm-modern")]
        cal, _ = C.fit_vector(train, iters=max(iters // 2, 8), start=x_all)
        cal.kernel_factors, cal.kernel_source = kernels  # as the shipped calibration carries them
        for c in test:
            got = _values(replay(c, cal, full))
            for m, truth in c.truth.items():
                if not got or not scored(c, m):
                    continue
                value = (
                    got["capacity"] if m == "output_tokens_per_s" and c.scenario == "open_loop" else got[m]
                )
                if np.isfinite(value) and value > 0:
                    rows.append((c, m, value, truth))
        print(f"  [{i + 1}/{len(models)}] {held}: {len(test)} rows ({time.time() - t0:.0f}s)", flush=True)
    return rows


def coverage(rows: Sequence[Row]) -> dict[tuple[str, str], list[bool]]:
    """Cross-validated coverage: each model's truths against the band of the other models' residuals."""
    inside: dict[tuple[str, str], list[bool]] = defaultdict(list)
    by_model: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_model[r[0].model].append(r)
    for model, own in by_model.items():
        others = [(c, m, float(np.log(t / v))) for c, m, v, t in rows if c.model != model]
        bands = C.bands_of(others)
        for c, m, v, t in own:
            lo, hi = bands.get(C.engine_family(c.stack), {}).get(m, (-0.3, 0.3))
            inside[(family(c), m)].append(v * np.exp(lo) <= t <= v * np.exp(hi))
    return inside


def report(rows: Sequence[Row], roofline: dict[tuple[int, str], float]) -> None:
    errs: dict[tuple[str, str], list[float]] = defaultdict(list)
    for c, m, v, t in rows:
        ape = abs(v / t - 1.0)
        errs[(m, family(c))].append(ape)
        errs[(m, c.source)].append(ape)
        if family(c) == "vllm-modern":
            errs[(m, f"vllm-modern/{c.scenario}")].append(ape)
    inside = coverage(rows)
    print(f"\n{'metric':22s} {'group':34s} {'rows':>6s} {'MdAPE %':>8s} {'cover80 %':>9s}")
    for (m, g), apes in sorted(errs.items()):
        cov = inside.get((g, m))
        cov_text = f"{100 * float(np.mean(cov)):9.1f}" if cov else f"{'':9s}"
        print(f"{m:22s} {g:34s} {len(apes):6d} {100 * float(np.median(apes)):8.1f} {cov_text}")

    def med(sel: list[float]) -> str:
        return f"{100 * float(np.median(sel)):.1f}% (n={len(sel)})" if sel else "n/a"

    modern = [r for r in rows if family(r[0]) == "vllm-modern"]
    tpot = [abs(v / t - 1) for c, m, v, t in modern if m == "tpot_ms"]
    ttft = [abs(v / t - 1) for c, m, v, t in modern if m == "ttft_ms" and c.scenario != "burst"]
    peak = [abs(v / t - 1) for c, m, v, t in modern if m == "output_tokens_per_s" and c.saturated]
    print("\nModern vLLM, leave one model out (targets: TPOT <= 10%, TTFT <= 20%, throughput <= 10%):")
    print(f"  TPOT (per-token; every row with one)          {med(tpot)}")
    print(f"  TTFT (non-saturated, known conditions)        {med(ttft)}")
    print(f"  throughput on saturated bursts / overloads    {med(peak)}")
    for fam in ("trtllm/nim", "vllm-modern", "vllm-0.6"):
        cov = [x for (g, _), v in inside.items() if g == fam for x in v]
        if cov:
            print(f"  80% interval coverage, {fam:12s}: {100 * float(np.mean(cov)):.1f}% of {len(cov)}")

    print("\nvLLM rows by GPU and TP: Preflight (held-out fit) against the uncalibrated roofline")
    print(f"{'GPU':18s} {'TP':>3s} {'metric':20s} {'n':>4s} {'Preflight %':>12s} {'roofline %':>11s}")
    table: dict[tuple[str, int, str], list[tuple[float, float]]] = defaultdict(list)
    for c, m, v, t in rows:
        if (id(c), m) in roofline:
            table[(c.gpu, c.tp, m)].append((abs(v / t - 1), abs(roofline[(id(c), m)] / t - 1)))
    for (g, tp, m), pairs in sorted(table.items()):
        pf, rl = zip(*pairs, strict=True)
        print(
            f"{g:18s} {tp:3d} {m:20s} {len(pairs):4d} {100 * np.median(pf):12.1f} {100 * np.median(rl):11.1f}"
        )


def roofline_predictions(cases: Sequence[C.Case]) -> dict[tuple[int, str], float]:
    """Uncalibrated roofline (``Calibration()`` priors) for the vLLM rows, keyed (id(case), metric)."""
    prior = C.Calibration()
    out: dict[tuple[int, str], float] = {}
    for c in cases:
        got = _values(replay(c, prior, False)) if c.engine == "vllm" else {}
        for m in C.METRICS:
            if got:
                key = "capacity" if m == "output_tokens_per_s" and c.scenario == "open_loop" else m
                out[(id(c), m)] = got[key]
    return out


def kernel_factors() -> tuple[dict[str, dict[str, float]], str]:
    """Per-GPU efficiencies from the curated kernel tables (seed/curate_kernels.py) and their provenance."""
    path = Path(__file__).resolve().parents[1] / "seed" / "data" / "kernel_tables.json"
    doc = json.loads(path.read_text())
    prov = doc["provenance"]
    factors = {e["gpu"]: e["derived"] for e in doc["systems"].values() if e.get("derived", {}).get("bw_eff")}
    return factors, f"{prov['package']} {prov['version']}, {prov['licence']}"


def load_cases() -> list[C.Case]:
    cat = default_catalog()
    serving = json.loads(published("serving_measurements.json").read_text())["measurements"]
    modern_raw = json.loads(published("vllm_modern_measurements.json").read_text())["measurements"]
    modern = [n for n in (normalise(r) for r in modern_raw) if n is not None]
    cases = C.build_cases(serving, cat.get_model, cat.get_gpu)
    cm = C.build_cases(modern, cat.get_model, cat.get_gpu)
    print(
        f"{len(cases)} usable rows of {len(serving)} (serving_measurements); {len(cm)} of {len(modern_raw)} "
        "modern vLLM rows (dropped: sim-to-real rows without rate/lengths, speculative decoding, "
        "bitsandbytes, pipeline parallel, models outside the catalog)"
    )
    return cases + cm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer solver iterations")
    ap.add_argument("--full", action="store_true", help="run predict() with the simulation (slower)")
    ap.add_argument("--write", action="store_true", help="write app/perf/calibration.json from all rows")
    ap.add_argument("--only", nargs="*", default=(), help="hold out only models whose id contains these")
    ap.add_argument("--dump", help="write every held-out (prediction, truth) as JSON lines to this path")
    ap.add_argument(
        "--vllm-only",
        action="store_true",
        help="score only the modern vLLM rows (a fast development loop; the full run is the reported figure)",
    )
    args = ap.parse_args()
    if args.vllm_only and args.write:
        raise SystemExit("--write needs the full run (its bands come from every family's held-out rows)")
    logging.basicConfig(level=logging.WARNING)
    iters = 12 if args.quick else 25
    cases = load_cases()
    t0 = time.time()
    print("\n== leave-one-model-out ==")
    rows = leave_one_model_out(cases, iters, args.full, args.only, args.vllm_only)
    scored_cases = [c for c in cases if family(c) == "vllm-modern"] if args.vllm_only else cases
    report(rows, roofline_predictions(scored_cases))
    if args.dump:
        with open(args.dump, "w") as fh:
            for c, m, v, t in rows:
                fields = {"model": c.model, "gpu": c.gpu, "tp": c.tp, "precision": c.precision}
                fields |= {"scenario": c.scenario, "n": c.n_prompts, "max_batch": c.max_batch, "inp": c.inp}
                fields |= {"out": c.out, "metric": m, "predicted": v, "truth": t, "source": c.source}
                fh.write(json.dumps(fields) + "\n")

    print(f"({time.time() - t0:.0f}s)")
    if args.write:
        cal = C.fit(cases, iters=iters)
        cal.kernel_factors, cal.kernel_source = kernel_factors()
        cal.evidence_bands = C.bands_of([(c, m, float(np.log(t / v))) for c, m, v, t in rows])
        CALIBRATION_FILE.write_text(cal.model_dump_json(indent=1) + "\n")
        print(f"wrote {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
