"""Measured kernel tables: curated offline with provenance, used for covered GPUs without fitted rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.perf.calibrate import KERNEL_REFERENCE_GPU, Calibration
from app.perf.predict import default_calibration, predict
from app.perf.types import Workload
from app.planning.catalog import default_catalog

pytestmark = pytest.mark.unit

TABLES = Path(__file__).resolve().parents[2] / "seed" / "data" / "kernel_tables.json"
CAT = default_catalog()


def test_curated_tables_carry_their_provenance_and_cover_the_main_gpus() -> None:
    doc = json.loads(TABLES.read_text())
    prov = doc["provenance"]
    assert prov["package"] == "aiconfigurator-core" and prov["licence"] == "Apache-2.0" and prov["version"]
    gpus = {e["gpu"]: e for e in doc["systems"].values()}
    assert {"H100-SXM-80GB", "H200-SXM-141GB", "B200-180GB", "A100-SXM-80GB", "L40S-48GB"} <= set(gpus)
    for entry in gpus.values():
        assert all(v.startswith("vllm ") for v in entry["engine_versions"].values())
        d = entry["derived"]
        # Measured kernels never beat the datasheet.
        assert 0.3 < d["bw_eff"] <= 1.0 and 0.3 < d["flops_eff"] <= 1.0


def test_a_covered_gpu_without_fitted_rows_uses_the_kernels_ratio_to_the_reference() -> None:
    cal = Calibration(
        gpu_bw_eff={KERNEL_REFERENCE_GPU: 0.8},
        gpu_flops_eff={KERNEL_REFERENCE_GPU: 0.6},
        kernel_factors={
            KERNEL_REFERENCE_GPU: {"bw_eff": 0.8, "flops_eff": 0.8},
            "B200-180GB": {"bw_eff": 0.6, "flops_eff": 0.7},
        },
        kernel_source="aiconfigurator-core 0.12.0, Apache-2.0",
    )
    f = cal.factors("B200-180GB", "blackwell", "trtllm", stack="trtllm-0.9")
    assert f.bw_eff == pytest.approx(0.8 * 0.6 / 0.8)
    assert f.flops_eff == pytest.approx(0.6 * 0.7 / 0.8)
    assert "measured kernels" in cal.step_basis("B200-180GB")
    assert "calibrated" in cal.step_basis(KERNEL_REFERENCE_GPU)
    assert "roofline fallback" in cal.step_basis("L4")


def test_predictions_say_which_basis_their_step_times_rest_on() -> None:
    cal = default_calibration()
    w = Workload.fixed(500, 100, concurrency=8)
    arch = CAT.get_model("llama-3.1-8b")
    h100 = predict(arch, CAT.get_gpu("H100-SXM-80GB"), w, calibration=cal, full=False)
    l4 = predict(arch, CAT.get_gpu("L4"), w, calibration=cal, full=False)
    assert h100.step_basis is not None and "calibrated" in h100.step_basis
    assert l4.fits and l4.step_basis is not None and "roofline fallback" in l4.step_basis


def test_intervals_widen_as_evidence_thins() -> None:
    """Same configuration: a GPU with fitted rows < a GPU only the kernel tables cover < a GPU nothing
    measured (roofline fallback)."""
    cal = default_calibration()
    w = Workload.fixed(500, 100, concurrency=8)
    arch = CAT.get_model("llama-3.1-8b")

    def width(gpu_id: str) -> tuple[float, str | None]:
        pred = predict(arch, CAT.get_gpu(gpu_id), w, calibration=cal, full=False)
        assert pred.interval is not None and pred.tpot_ms is not None
        lo, hi = pred.interval.tpot_ms
        return hi / lo, pred.evidence

    h100, kernels, fallback = width("H100-SXM-80GB"), width("B200-180GB"), width("L4")
    assert h100[1] in ("measured", "unmeasured model")
    assert kernels[1] == "unmeasured GPU" and fallback[1] == "roofline fallback"
    assert h100[0] < kernels[0] < fallback[0]


def test_vllm_v1_all_reduce_latency_is_the_measured_one_where_covered() -> None:
    cal = Calibration(
        kernel_factors={
            "H100-SXM-80GB": {"bw_eff": 0.8, "flops_eff": 0.8, "allreduce_latency_ms_per_hop": 0.0025}
        },
    )
    measured = cal.factors("H100-SXM-80GB", "hopper", "vllm", stack="vllm-v1").allreduce_latency_ms
    assert measured == pytest.approx(0.0025)
    # Another engine generation, or a GPU the tables do not cover, keeps the fitted stack's value.
    older = cal.factors("H100-SXM-80GB", "hopper", "vllm", stack="vllm-0.6").allreduce_latency_ms
    uncovered = cal.factors("H100-PCIe-80GB", "hopper", "vllm", stack="vllm-v1").allreduce_latency_ms
    assert older == pytest.approx(cal.engines["vllm-0.6"].allreduce_latency_ms)
    assert uncovered == pytest.approx(cal.engines["vllm-v1"].allreduce_latency_ms)
