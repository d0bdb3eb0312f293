"""Per-call time of the closed-form and full (simulated) predictions, cold (uncached) and warm (cached).

.venv/bin/python benchmarks/predict_speed.py
"""

from __future__ import annotations

import time

import numpy as np

from app.perf.predict import _CACHE, predict
from app.perf.types import Workload
from app.planning.catalog import default_catalog


def main() -> None:
    cat = default_catalog()
    arch, gpu = cat.get_model("llama-3.1-8b"), cat.get_gpu("H100")
    loads = [Workload.fixed(1000, 200, concurrency=c) for c in (1, 8, 32, 128)] + [
        Workload.fixed(1000, 200, request_rate=r) for r in (1.0, 5.0, 10.0, 30.0)
    ]
    predict(arch, gpu, loads[0])  # import / numpy warm-up
    for full in (False, True):
        cold, warm = [], []
        for w in loads:
            for rep in range(5):
                _CACHE.clear()
                t = time.perf_counter()
                predict(arch, gpu, w, full=full, seed=rep)
                cold.append(time.perf_counter() - t)
                t = time.perf_counter()
                predict(arch, gpu, w, full=full, seed=rep)
                warm.append(time.perf_counter() - t)
        name = "full (DES)" if full else "closed form"
        print(
            f"{name:12s} uncached median {1e3 * np.median(cold):.2f} ms, "
            f"p90 {1e3 * np.percentile(cold, 90):.2f} ms;"
            f" cached median {1e6 * np.median(warm):.1f} us"
        )


if __name__ == "__main__":
    main()
