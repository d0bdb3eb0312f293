"""Open loop at a rate: a self-consistent steady state that saturates only past capacity."""

from __future__ import annotations

import pytest

from app.perf.model import raw_costs, step_ms
from app.perf.predict import default_calibration, predict
from app.perf.types import LengthDist, Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()
CAL = default_calibration()
H100 = CAT.get_gpu("H100-SXM-80GB")


def _chat(rate: float) -> Workload:
    return Workload(
        input_tokens=LengthDist(mean=600, kind="lognormal", cv=0.6),
        output_tokens=LengthDist(mean=250, kind="lognormal", cv=0.6),
        request_rate=rate,
    )


@pytest.mark.parametrize(("model", "tp", "rate"), [("llama-3.1-8b", 1, 8.0), ("llama-3.1-70b", 4, 6.0)])
def test_moderate_rate_is_unsaturated_and_obeys_littles_law(model: str, tp: int, rate: float) -> None:
    arch = CAT.get_model(model)
    pred = predict(arch, H100, _chat(rate), tp=tp, calibration=CAL, full=False)
    assert pred.fits and not pred.saturated
    assert pred.capacity_output_tokens_per_s is not None and pred.mean_batch is not None
    assert pred.tpot_ms is not None and pred.ttft_ms is not None and pred.e2e_ms is not None
    # A moderate rate is well below what the configuration serves.
    assert rate * 250 < 0.8 * pred.capacity_output_tokens_per_s
    # Little's law on the decode phase: sequences decoding = rate x time spent decoding.
    decoding_time_s = (pred.e2e_ms.mean - pred.ttft_ms.mean) / 1e3
    assert pred.mean_batch == pytest.approx(rate * decoding_time_s, rel=0.02)
    # ... and the step time of that batch (with the prompts arriving meanwhile) is the predicted TPOT: the
    # fixed point closed, it did not stop early or run away.
    f = CAL.factors(H100.id, H100.family, "vllm", stack=pred.engine_stack)
    raw = raw_costs(arch, H100, tp, "bf16")
    seen = 1.0 + pred.mean_batch * (1.0 - 1.0 / _batch_cap(model, tp))
    prompts = rate / 1e3 * 600 * pred.tpot_ms.mean
    step = float(step_ms(raw, f, seen, seen * (600 + 125), prompts, prompts * 300))
    assert step == pytest.approx(pred.tpot_ms.mean, rel=0.02)


def _batch_cap(model: str, tp: int) -> float:
    """The decode batch the open loop saturates at (the prediction at an overload reports it)."""
    over = predict(CAT.get_model(model), H100, _chat(1e4), tp=tp, calibration=CAL, full=False)
    assert over.saturated and over.mean_batch is not None
    return over.mean_batch


def test_saturated_exactly_past_capacity() -> None:
    arch = CAT.get_model("llama-3.1-8b")
    cap_tokens = predict(arch, H100, _chat(1.0), calibration=CAL, full=False).capacity_output_tokens_per_s
    assert cap_tokens is not None
    capacity_rps = cap_tokens / 250
    below = predict(arch, H100, _chat(0.95 * capacity_rps), calibration=CAL, full=False)
    above = predict(arch, H100, _chat(1.05 * capacity_rps), calibration=CAL, full=False)
    assert not below.saturated and above.saturated
    # Below capacity the latency stays finite and the engine carries the offered load.
    assert below.tpot_ms is not None and below.tpot_ms.mean < 1e3
    assert below.output_tokens_per_s == pytest.approx(0.95 * capacity_rps * 250, rel=1e-6)
    # Past it, throughput is the capacity, not the offered rate.
    assert above.output_tokens_per_s == pytest.approx(cap_tokens, rel=0.02)


def test_simulation_does_not_overrule_an_unsaturated_fixed_point() -> None:
    arch = CAT.get_model("llama-3.1-70b")
    pred = predict(arch, H100, _chat(6.0), tp=4, calibration=CAL, full=True)
    assert not pred.saturated
    assert pred.tpot_ms is not None and pred.tpot_ms.p99 >= pred.tpot_ms.p50 > 0
