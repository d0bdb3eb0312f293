"""Pure parts of stage 4's glue: names derived from model ids, SLOs and engine flags from an option, the
state machine's shape, and how progress reads in a terminal."""

from __future__ import annotations

import pytest

from app.deploy.events import Finished, StateChanged, line
from app.deploy.from_recommendation import DEFAULT_SLO, deployment_name, slo_targets, vllm_args
from app.deploy.plan import DNS1035_LABEL, MAX_NAME_LENGTH
from app.deploy.service import IN_FLIGHT, STATES, TRANSITIONS
from app.planning.result import Option

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "model_id",
    ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-72B-Instruct-AWQ", "0-hero/7B", "x/" + "a" * 90],
)
def test_deployment_name_is_a_short_dns1035_label(model_id: str) -> None:
    name = deployment_name(model_id, "0b6c2f7e-1111-2222-3333-444455556666")
    assert DNS1035_LABEL.match(name) and len(name) <= MAX_NAME_LENGTH
    assert name.endswith("-0b6c2f")


def _option(**kw: object) -> Option:
    stats = {"mean": 1.0, "p50": 1.0, "p90": 1.0, "p95": 1.0, "p99": 1.0}
    base: dict[str, object] = {
        "rank": 1,
        "model_id": "m/x",
        "gpu_id": "H100-SXM-80GB",
        "precision": "fp8",
        "tp": 2,
        "replicas": 3,
        "min_replicas": 2,
        "max_replicas": 4,
        "gpus_total": 6,
        "headroom": "N+1",
        "ttft_ms": stats,
        "tpot_ms": stats,
        "e2e_ms": stats,
        "output_tokens_per_s": 1.0,
        "requests_per_s_capacity": 1.0,
        "basis": "estimated",
        "slo_checks": [
            {"metric": "ttft_p90_ms", "target": 300, "predicted": 200, "verdict": "meets"},
            {"metric": "throughput_rps", "target": 5, "predicted": 9, "verdict": "meets"},
        ],
        "cost": {"deployment_model": "cloud_rental", "hourly_usd": 1.0, "monthly_usd": 730.0},
        "quality": {"index": 50, "basis": "estimated", "detail": "-"},
        "max_concurrency": 64,
        "kv_cache_tokens": 1000,
        "vllm_args": {"max_num_seqs": 64, "max_model_len": 4096, "unknown": 1},
        "rationale": "-",
    }
    base.update(kw)
    return Option.model_validate(base)


def test_option_slos_and_engine_flags() -> None:
    slo = slo_targets(_option())
    assert slo.ttft_p90_ms == 300 and slo.tpot_p90_ms == DEFAULT_SLO["tpot_p90_ms"]
    args = vllm_args(_option())
    assert (args.max_num_seqs, args.max_model_len, args.quantization) == (64, 4096, "fp8")


def test_every_state_can_end_deleted_and_in_flight_states_can_fail() -> None:
    assert set(TRANSITIONS) - {None} == set(STATES)
    for state in STATES:
        if state != "deleted":
            assert "deleted" in TRANSITIONS[state]
    for state in IN_FLIGHT:
        assert "failed" in TRANSITIONS[state]
    assert TRANSITIONS["deleted"] == set()


def test_progress_lines_say_what_happened() -> None:
    ev = StateChanged(
        deployment_id="d",
        from_state="applying",
        to_state="failed",
        actor="ana",
        detail={"error": "quota exceeded"},
    )
    assert "applying -> failed (quota exceeded)" in line(ev)
    done = Finished(deployment_id="d", state="ready", ok=True, endpoint="http://127.0.0.1:9", message="ok")
    assert "ready at http://127.0.0.1:9" in line(done)
