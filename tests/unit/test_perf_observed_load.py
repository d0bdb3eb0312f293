"""A prediction at the load actually served: what monitoring compares the observed figures with."""

from __future__ import annotations

import pytest

from app.perf.observed import ObservedLoad, predict_at_load
from app.perf.predict import default_calibration, predict
from app.perf.types import Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()
CAL = default_calibration()
ARCH, GPU = CAT.get_model("llama-3.1-8b"), CAT.get_gpu("H100-SXM-80GB")


def test_idle_window_has_no_load_to_predict_at() -> None:
    assert ObservedLoad.from_rates(0.0, 0.0, 0.0) is None
    assert ObservedLoad.from_rates(0.5, 0.0, 10.0) is None


def test_lengths_come_from_the_window_rates() -> None:
    load = ObservedLoad.from_rates(2.0, 1200.0, 300.0)
    assert load is not None
    assert (load.requests_per_s, load.input_tokens, load.output_tokens) == (2.0, 600.0, 150.0)


def test_a_lightly_loaded_deployment_is_compared_with_a_light_load_prediction() -> None:
    """Planned at 60 req/s, served 0.5 req/s: the at-load prediction is the fast one the server shows, so
    a server that behaves as modelled is not reported as far faster than predicted."""
    planned = predict(ARCH, GPU, Workload.fixed(600, 150, request_rate=60.0), calibration=CAL)
    load = ObservedLoad.from_rates(0.5, 300.0, 75.0)
    assert load is not None
    light = predict_at_load(ARCH, GPU, load, tp=1, precision="bf16", engine="vllm", calibration=CAL)
    assert planned.tpot_ms is not None and light.tpot_ms is not None
    assert light.ttft_ms is not None and planned.ttft_ms is not None
    assert light.tpot_ms.mean < 0.8 * planned.tpot_ms.mean
    assert light.ttft_ms.mean < planned.ttft_ms.mean
    assert not light.saturated and light.requests_per_s == pytest.approx(0.5)
