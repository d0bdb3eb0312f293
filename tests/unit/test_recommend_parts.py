"""Pure parts of the recommender: traffic derivation, SLO verdicts, headroom."""

from __future__ import annotations

import pytest

from app.intent.schema import DeploymentIntent
from app.intent.usecases import apply_template, template_for_task
from app.planning.sizing import _check, headroom
from app.planning.traffic import derive_traffic, lognormal_cv_from_p95

pytestmark = pytest.mark.unit


def test_traffic_derivation_in_words() -> None:
    spec = apply_template(
        DeploymentIntent(task_type="chatbot", total_users=1000), template_for_task("chatbot")
    )
    derivation, traffic = derive_traffic(spec)
    assert derivation.peak_qps == pytest.approx(6.6667, abs=1e-3)
    assert "1,000 users × 10% active" in derivation.explanation[0]
    assert traffic.arrival == "gamma" and traffic.burstiness_cv == 1.5
    assert traffic.output_tokens.kind == "lognormal"
    # p95 = 2.5 × mean for replies: the lognormal with that ratio has cv ≈ 0.81
    assert lognormal_cv_from_p95(200, 500) == pytest.approx(0.81, abs=0.01)


def test_interval_straddling_a_target_is_uncertain() -> None:
    assert _check("ttft_p90_ms", 300, 250, (200, 280)).verdict == "meets"
    assert _check("ttft_p90_ms", 300, 250, (200, 340)).verdict == "uncertain"
    assert _check("ttft_p90_ms", 300, 320, (250, 400)).verdict == "misses"


def test_headroom_for_reliability() -> None:
    assert headroom(3, 99.9) == (1, "N+1 for 99.9%")
    assert headroom(3, 99.99)[0] == 2
    assert headroom(3, 99.0)[0] == 0
