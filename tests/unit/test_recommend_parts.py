"""Pure parts of the recommender: quality index, traffic derivation, SLO verdicts, headroom."""

from __future__ import annotations

import pytest

from app.intent.schema import DeploymentIntent
from app.intent.usecases import apply_template, template_for_task
from app.planning.quality import ModelFacts, option_quality, published_index, quality_indexes
from app.planning.sizing import _check, headroom
from app.planning.traffic import derive_traffic, lognormal_cv_from_p95

pytestmark = pytest.mark.unit

LLAMA_8B = (
    {"benchmark": "MMLU", "score": 69.4},
    {"benchmark": "HumanEval", "score": 72.6},
    {"benchmark": "IFEval", "score": 80.4},
)


def test_published_index_by_hand() -> None:
    got = published_index(LLAMA_8B)
    assert got is not None
    # (69.4-25)/65, 72.6/95, (80.4-30)/65 -> 68.3, 76.4, 77.5 -> mean 74.1
    assert got[0] == pytest.approx((44.4 / 65 + 72.6 / 95 + 50.4 / 65) / 3 * 100, abs=0.01)
    fractions = published_index([{"benchmark": "MMLU-Pro", "score": 0.663}])
    assert fractions is not None and fractions[0] == pytest.approx((66.3 - 10) / 70 * 100, abs=0.01)


def test_unscored_models_are_estimated_and_marked() -> None:
    facts = [
        ModelFacts("a/small-1b", "llama-3.2", 1.2, 1.2, ({"benchmark": "MMLU", "score": 49.3},)),
        ModelFacts("a/mid-8b", "llama-3.1", 8.0, 8.0, LLAMA_8B),
        ModelFacts("a/big-70b", "llama-3.1", 70.0, 70.0, ({"benchmark": "MMLU", "score": 83.6},)),
        ModelFacts("b/new-14b", "qwen2.5", 14.7, 14.7, (), tier="high"),
        ModelFacts("b/huge-moe", "qwen3-moe", 235.0, 22.0, (), tier="standard"),
    ]
    idx = quality_indexes(facts)
    assert idx["a/mid-8b"].basis == "published"
    assert idx["b/new-14b"].basis == "estimated" and 60 <= idx["b/new-14b"].index < 80
    assert idx["b/huge-moe"].index < 60 and "tier" in idx["b/huge-moe"].detail
    assert option_quality(idx["a/mid-8b"], "int4").index == pytest.approx(idx["a/mid-8b"].index - 3, abs=0.05)


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
