"""The simulation's folded scalar step time is the model's step time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.perf.model import raw_costs, scalar_step, step_ms
from app.perf.predict import default_calibration
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()
CAL = default_calibration()
CONFIGS = [
    ("llama-3.1-8b", "H100-SXM-80GB", 1, "bf16"),
    ("llama-3.1-70b", "A100-SXM-80GB", 4, "fp8"),
    ("mixtral-8x7b", "L40S-48GB", 2, "int4"),
    ("gemma-2-27b-it", "MI300X-192GB", 1, "bf16"),
]


@settings(max_examples=60, deadline=None)
@given(
    config=st.sampled_from(CONFIGS),
    d=st.integers(0, 512),
    ctx_per=st.floats(0, 8000),
    p=st.floats(0, 8192),
    stack=st.sampled_from(["vllm-v1", "nim", "vllm-0.6"]),
)
def test_scalar_step_equals_step_ms(
    config: tuple[str, str, int, str], d: int, ctx_per: float, p: float, stack: str
) -> None:
    model, gpu_id, tp, precision = config
    arch, gpu = CAT.get_model(model), CAT.get_gpu(gpu_id)
    raw = raw_costs(arch, gpu, tp, precision)
    f = CAL.factors(gpu.id, gpu.family, "vllm", stack=stack)
    ctx, s2 = d * ctx_per, p * p / 2.0
    assert scalar_step(raw, f)(float(d), ctx, p, s2) == pytest.approx(
        float(step_ms(raw, f, d, ctx, p, s2)), rel=1e-9
    )
