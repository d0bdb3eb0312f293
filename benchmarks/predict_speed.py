"""Per-call time of the closed-form and full (simulated) predictions, cold (no memo) and warm (memo hit),
and 1,000 configurations through `preflight predict --jsonl` as a new process (start-up included).

.venv/bin/python benchmarks/predict_speed.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from app.perf.memo import Memo
from app.perf.predict import default_calibration, predict
from app.perf.types import Prediction, Workload
from app.planning.catalog import default_catalog

REPO = Path(__file__).resolve().parents[1]


def per_call() -> None:
    cat = default_catalog()
    cal = default_calibration()
    arch, gpu = cat.get_model("llama-3.1-8b"), cat.get_gpu("H100")
    loads = [Workload.fixed(1000, 200, concurrency=c) for c in (1, 8, 32, 128)] + [
        Workload.fixed(1000, 200, request_rate=r) for r in (1.0, 5.0, 10.0, 30.0)
    ]
    predict(arch, gpu, loads[0], calibration=cal)  # import / numpy warm-up
    for full in (False, True):
        cold, warm = [], []
        for w in loads:
            for rep in range(5):
                memo: Memo[Prediction] = Memo()
                t = time.perf_counter()
                predict(arch, gpu, w, full=full, seed=rep, calibration=cal, memo=memo)
                cold.append(time.perf_counter() - t)
                t = time.perf_counter()
                predict(arch, gpu, w, full=full, seed=rep, calibration=cal, memo=memo)
                warm.append(time.perf_counter() - t)
        name = "full (DES)" if full else "closed form"
        print(
            f"{name:12s} uncached median {1e3 * np.median(cold):.2f} ms, "
            f"p90 {1e3 * np.percentile(cold, 90):.2f} ms;"
            f" memo hit median {1e6 * np.median(warm):.1f} us"
        )


def jsonl_batch(n: int = 1000) -> None:
    """n distinct configurations (models, GPUs, TP, lengths, loads) through the CLI in one process."""
    rng = np.random.default_rng(0)
    models = ["llama-3.1-8b", "llama-3.1-70b", "mistral-7b", "qwen2.5-7b", "mixtral-8x7b"]
    gpus = ["H100-SXM-80GB", "A100-SXM-80GB", "L40S-48GB", "H200-SXM-141GB", "L4"]
    lines = []
    for i in range(n):
        spec = {
            "model": models[i % len(models)],
            "gpu": gpus[(i // len(models)) % len(gpus)],
            "tp": int(rng.choice([1, 2, 4])),
            "input_tokens": int(rng.integers(64, 4000)),
            "output_tokens": int(rng.integers(16, 1000)),
        }
        if i % 2:
            spec["request_rate"] = round(float(rng.uniform(0.2, 20.0)), 2)
        else:
            spec["concurrency"] = int(rng.integers(1, 128))
        lines.append(json.dumps(spec))
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.write("\n".join(lines) + "\n")
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "predict", "--jsonl", fh.name],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - t
    results = [json.loads(x) for x in proc.stdout.splitlines()]
    errors = sum(1 for r in results if "error" in r)
    print(
        f"--jsonl: {len(results)} configurations in {elapsed:.2f} s, process start included ({errors} errors)"
    )
    Path(fh.name).unlink()


if __name__ == "__main__":
    per_call()
    jsonl_batch()
