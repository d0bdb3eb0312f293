"""Schema bounds, the users -> QPS derivation, and editing a Specification."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.intent.rules import extract
from app.intent.schema import DeploymentIntent, users_to_qps
from app.intent.usecases import apply_template, template_for_task

pytestmark = pytest.mark.unit


def test_users_to_qps_explains_itself() -> None:
    est = users_to_qps(1000, active_fraction=0.1, requests_per_active_user_per_min=2, peak_multiplier=2)
    assert est.active_users == 100
    assert est.steady_qps == pytest.approx(100 * 2 / 60)
    assert est.peak_qps == pytest.approx(2 * est.steady_qps)
    assert "1,000 users" in est.explanation and "QPS peak" in est.explanation


def test_users_to_qps_rejects_nonsense() -> None:
    with pytest.raises(ValidationError):
        users_to_qps(1000, active_fraction=1.5, requests_per_active_user_per_min=2, peak_multiplier=2)


@pytest.mark.parametrize(
    "data",
    [
        {"concurrent_users": 10**12},
        {"concurrent_users": 0},
        {"budget": {"max_monthly_cost_usd": 0}},
        {"budget": {"max_monthly_cost_usd": -5}},
        {"target_ttft_p90_ms": -1},
        {"reliability_target": 150},
        {"datacenter_context": {"cooling_overhead_pue": 0.5}},
        {"task_type": "world_domination"},
        {"unknown_field": 1},
        {"available_gpus": ["L4"], "excluded_gpus": ["L4"]},
    ],
)
def test_out_of_bounds_values_are_validation_errors(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DeploymentIntent.model_validate(data)


def test_stated_omits_unstated_fields() -> None:
    intent = DeploymentIntent(task_type="chatbot", budget={"max_monthly_cost_usd": 100})
    assert intent.stated() == {"task_type": "chatbot", "budget": {"max_monthly_cost_usd": 100.0}}


def test_edit_marks_origin_and_keeps_bounds() -> None:
    spec = apply_template(extract("chatbot for 1000 users").intent, template_for_task("chatbot"))
    edited = spec.edit(target_ttft_p90_ms=150)
    assert edited.target_ttft_p90_ms == 150 and edited.origins["target_ttft_p90_ms"] == "edited"
    assert spec.origins["target_ttft_p90_ms"] == "template"
    faster = spec.edit(expected_qps=spec.expected_qps * 10)
    assert faster.peak_qps >= faster.expected_qps and faster.origins["peak_qps"] == "edited"
    with pytest.raises(ValidationError):
        spec.edit(target_ttft_p90_ms=-3)
    with pytest.raises(ValueError, match="unknown"):
        spec.edit(origins={})
    assert spec.slo_targets().ttft_p90_ms == spec.target_ttft_p90_ms
    assert spec.traffic_profile().peak_qps == spec.peak_qps


@pytest.mark.parametrize("value", [None, "fast"])
def test_a_non_number_qps_edit_is_a_validation_error_not_a_crash(value: object) -> None:
    spec = apply_template(extract("chatbot for 1000 users").intent, template_for_task("chatbot"))
    with pytest.raises(ValidationError) as e:
        spec.edit(expected_qps=value)
    assert "expected_qps" in str(e.value)


def test_a_rejected_scenario_change_reads_as_plain_field_text() -> None:
    from app.planning.scenarios import ScenarioError, apply_changes

    spec = apply_template(extract("chatbot for 1000 users").intent, template_for_task("chatbot"))
    with pytest.raises(ScenarioError) as e:
        apply_changes(spec, {"expected_qps": None, "target_ttft_p90_ms": -3})
    text = str(e.value)
    assert "expected_qps: " in text and "target_ttft_p90_ms: Input should be greater than" in text
    assert "pydantic.dev" not in text and "For further information" not in text and "input_value" not in text
