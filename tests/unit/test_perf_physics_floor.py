"""Physics as a guard, over the whole catalog: no prediction beats the hardware.

- A decode step streams at least the weights one token touches (attention, dense MLP, the top-k routed
  experts, the output head) from HBM: TPOT >= active weight bytes per GPU / datasheet HBM bandwidth.
- A prompt costs at least 2 FLOPs per active parameter per token at the datasheet's dense tensor peak:
  TTFT >= 2 x active parameters x prompt tokens / (TP x peak).
The floors are computed here from parameter counts and the datasheet only, not from the model's step times.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.perf.errors import PlanningError
from app.perf.memory import WEIGHT_BYTES, param_counts
from app.perf.model import gemm_precision
from app.perf.predict import default_calibration, predict
from app.perf.types import GpuSpec, ModelArch, Prediction, Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()
CAL = default_calibration()
MODELS = sorted(CAT.models(), key=lambda m: m.id)
GPUS = sorted(CAT.gpus(), key=lambda g: g.id)


def _floors(arch: ModelArch, gpu: GpuSpec, tp: int, precision: str, prompt: float) -> tuple[float, float]:
    pc = param_counts(arch)
    streamed = pc.active - pc.embedding + (pc.embedding if pc.lm_head == 0 else 0)
    tpot_floor = streamed * WEIGHT_BYTES[precision] / tp / (gpu.mem_bw_tb_s * 1e12) * 1e3
    flops = 2.0 * (pc.active - pc.embedding) * prompt / tp
    ttft_floor = flops / (gpu.tensor_tflops(gemm_precision(precision)) * 1e12) * 1e3
    return tpot_floor, ttft_floor


def _predict_smallest_tp(
    arch: ModelArch, gpu: GpuSpec, precision: str, workload: Workload
) -> tuple[int, Prediction] | None:
    for tp in (1, 2, 4, 8):
        try:
            pred = predict(arch, gpu, workload, tp=tp, precision=precision, calibration=CAL, full=False)
        except PlanningError:
            continue  # TP does not divide the heads
        if pred.fits:
            return tp, pred
    return None


def _check(arch: ModelArch, gpu: GpuSpec, precision: str, workload: Workload) -> bool:
    got = _predict_smallest_tp(arch, gpu, precision, workload)
    if got is None:
        return False
    tp, pred = got
    assert pred.tpot_ms is not None and pred.ttft_ms is not None
    tpot_floor, ttft_floor = _floors(arch, gpu, tp, precision, workload.input_tokens.mean)
    where = f"{arch.id} on {gpu.id} TP{tp} {precision} {workload}"
    assert pred.tpot_ms.mean >= tpot_floor, (
        f"TPOT {pred.tpot_ms.mean:.3f} ms < floor {tpot_floor:.3f}: {where}"
    )
    assert pred.ttft_ms.mean >= ttft_floor, (
        f"TTFT {pred.ttft_ms.mean:.3f} ms < floor {ttft_floor:.3f}: {where}"
    )
    return True


@pytest.mark.parametrize("precision", ["bf16", "fp8", "int4"])
def test_every_catalog_model_and_gpu_respects_the_floors(precision: str) -> None:
    checked = 0
    for arch in MODELS:
        for gpu in GPUS:
            checked += _check(arch, gpu, precision, Workload.fixed(2000, 100, concurrency=1))
    assert checked > len(MODELS)  # most models fit somewhere


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arch=st.sampled_from(MODELS),
    gpu=st.sampled_from(GPUS),
    precision=st.sampled_from(["bf16", "fp8", "int4"]),
    inp=st.integers(16, 16000),
    out=st.integers(2, 2000),
    load=st.one_of(
        st.integers(1, 512).map(lambda c: ("c", float(c))), st.floats(0.05, 200.0).map(lambda r: ("r", r))
    ),
)
def test_floors_hold_under_any_load(
    arch: ModelArch, gpu: GpuSpec, precision: str, inp: int, out: int, load: tuple[str, float]
) -> None:
    kind, value = load
    if kind == "c":
        workload = Workload.fixed(inp, out, concurrency=int(value))
    else:
        workload = Workload.fixed(inp, out, request_rate=value)
    _check(arch, gpu, precision, workload)
