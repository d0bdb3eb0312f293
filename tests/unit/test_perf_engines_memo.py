"""The deployed vLLM version is pinned once; engine versions pick calibrated stacks; the memo is injected."""

from __future__ import annotations

import pytest

from app.deploy.plan import PINNED_VLLM_IMAGE
from app.perf.engines import DEPLOYED_VLLM_VERSION, stack_for
from app.perf.errors import InvalidConfigError
from app.perf.memo import Memo
from app.perf.predict import default_calibration, predict
from app.perf.types import Prediction, Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

CAT = default_catalog()
CAL = default_calibration()
ARCH, GPU = CAT.get_model("llama-3.1-8b"), CAT.get_gpu("H100-SXM-80GB")


def test_manifests_deploy_the_version_the_model_predicts() -> None:
    assert PINNED_VLLM_IMAGE.endswith(f":v{DEPLOYED_VLLM_VERSION}")
    pred = predict(ARCH, GPU, Workload.fixed(500, 100, request_rate=2.0), calibration=CAL, full=False)
    assert pred.engine_stack == stack_for("vllm", DEPLOYED_VLLM_VERSION)


def test_engine_versions_map_to_their_calibrated_stacks() -> None:
    assert stack_for("vllm", "0.6.3") == "vllm-0.6"
    assert stack_for("vllm", "0.9.0", v0_engine=True) == "vllm-0.6"
    assert stack_for("vllm", "v0.11.0") == stack_for("vllm", "0.15.1") == "vllm-v1"
    assert stack_for("trtllm") == "nim"
    with pytest.raises(InvalidConfigError, match="version"):
        stack_for("vllm", "latest")


def test_an_older_engine_version_is_predicted_with_its_own_factors() -> None:
    w = Workload.fixed(500, 200, concurrency=16)
    new = predict(ARCH, GPU, w, calibration=CAL, full=False)
    old = predict(ARCH, GPU, w, calibration=CAL, full=False, engine_version="0.6.3")
    assert old.engine_stack == "vllm-0.6" and new.engine_stack == "vllm-v1"
    assert old.tpot_ms is not None and new.tpot_ms is not None
    assert old.tpot_ms.mean != pytest.approx(new.tpot_ms.mean, rel=0.01)


def test_memo_serves_repeats_and_forgets_an_old_catalog_version() -> None:
    memo: Memo[Prediction] = Memo(catalog_version="v1", size=8)
    w = Workload.fixed(500, 100, concurrency=4)
    first = predict(ARCH, GPU, w, calibration=CAL, full=False, memo=memo)
    assert predict(ARCH, GPU, w, calibration=CAL, full=False, memo=memo) is first
    memo.use_version("v2")
    assert len(memo) == 0
    again = predict(ARCH, GPU, w, calibration=CAL, full=False, memo=memo)
    assert again is not first and again == first
    for c in range(1, 20):  # bounded
        predict(ARCH, GPU, Workload.fixed(500, 100, concurrency=c), calibration=CAL, full=False, memo=memo)
    assert len(memo) == 8
