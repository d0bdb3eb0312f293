"""Accuracy of the performance model on published measurements it did not see.

Leave-one-model-out and leave-one-GPU-out over ../shared/data/published/serving_measurements.json: fit the
efficiency factors (with inner out-of-fold interval widths) on the rest, predict the held-out rows with the
closed form, and report median absolute % error per metric and per source, vLLM rows apart from TensorRT-LLM
/NIM rows, and the share of truths inside the stated 80% interval.

    .venv/bin/python benchmarks/accuracy.py [--quick] [--write]

--write also fits on every row and stores app/planning/calibration.json (the shipped calibration).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from app.planning import calibrate as C
from app.planning.catalog import default_catalog
from app.planning.predict import CALIBRATION_FILE

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "published" / "serving_measurements.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer LM iterations and inner folds")
    ap.add_argument("--write", action="store_true", help="write app/planning/calibration.json from all rows")
    args = ap.parse_args()
    iters, folds = (15, 2) if args.quick else (30, 3)
    cat = default_catalog()
    records = json.loads(DATA.read_text())["measurements"]
    cases = C.build_cases(records, cat.get_model, cat.get_gpu)
    print(f"{len(cases)} usable rows of {len(records)} (fp4 rows and rows without lengths skipped)")
    t0 = time.time()
    for split, key in (("leave-one-model-out", "model"), ("leave-one-GPU-out", "gpu")):
        errs: dict[tuple[str, str], list[float]] = defaultdict(list)
        cover: dict[str, list[bool]] = defaultdict(list)
        for held in sorted({getattr(c, key) for c in cases}):
            train = [c for c in cases if getattr(c, key) != held]
            test = [c for c in cases if getattr(c, key) == held]
            cal = C.fit(train, folds=folds, iters=iters)
            pred = C.predict_with(cal, test)
            for m in C.METRICS:
                lo, hi = cal.residual_quantiles[m]
                for c, v in zip(test, pred[m], strict=True):
                    if m not in c.truth or not np.isfinite(v) or v <= 0:
                        continue
                    group = "vllm" if c.engine == "vllm" else "trtllm/nim"
                    ape = abs(v / c.truth[m] - 1.0)
                    errs[(m, "all")].append(ape)
                    errs[(m, c.source)].append(ape)
                    errs[(m, group)].append(ape)
                    cover[m].append(v * math.exp(lo) <= c.truth[m] <= v * math.exp(hi))
                    cover["all"].append(cover[m][-1])
        print(f"\n== {split} ({time.time() - t0:.0f}s) ==")
        print(f"{'metric':22s} {'group':22s} {'rows':>6s} {'MdAPE %':>8s}")
        for (m, g), v in sorted(errs.items()):
            print(f"{m:22s} {g:22s} {len(v):6d} {100 * float(np.median(v)):8.1f}")
        for m, v in sorted(cover.items()):
            print(f"80% interval coverage {m:22s} {100 * float(np.mean(v)):5.1f}% of {len(v)}")
    print(
        "\nvLLM engine factors rest on the 86 dstack_405b rows (Llama-3.1-405B FP8, 8xH100 / 4-8xMI300X, "
        "vLLM 0.6.3) plus priors (bw/flops multiplier 0.9, step overhead 1.5 ms) when those rows are held out."
    )
    if args.write:
        cal = C.fit(cases, folds=folds, iters=iters)
        CALIBRATION_FILE.write_text(cal.model_dump_json(indent=1))
        print(f"wrote {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
