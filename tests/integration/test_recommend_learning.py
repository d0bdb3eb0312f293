"""Recommendations learn from stored outcomes: a configuration observed slower than predicted is predicted
slower next time (and says so), similar past outcomes are shown, and without outcomes nothing changes and
the embedding model is never loaded."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete

from app.embeddings import get_embedder
from app.intent.schema import DeploymentIntent, Specification
from app.intent.usecases import apply_template, template_for_task
from app.observe.outcomes import DeploymentConfig, record_outcome
from app.perf.corrections import OutcomeCorrection, outcome_factors
from app.planning.result import Option, RecommendationResult
from app.services.planner import recommend
from db import models as m

# What the deployments of one configuration observed, relative to what was predicted for them.
SLOWER = {"ttft": 1.2, "tpot": 1.6, "throughput": 0.65}


def chatbot() -> Specification:
    """Built from the template directly: the text path could load the embedding model for its search."""
    intent = DeploymentIntent(
        task_type="chatbot",
        concurrent_users=1000,
        priority="latency",
        use_case_description="internal chat assistant for our support engineers",
    )
    return apply_template(intent, template_for_task("chatbot"))


def find(result: RecommendationResult, like: Option) -> Option | None:
    for o in [*result.options, *result.viable]:
        if (o.model_id, o.gpu_id, o.precision, o.tp) == (like.model_id, like.gpu_id, like.precision, like.tp):
            return o
    return None


def scaled(stats: dict[str, Any], factor: float) -> dict[str, Any]:
    return {k: (v * factor if isinstance(v, float) else v) for k, v in stats.items()}


async def record_slower(session: Any, option: Option, spec: Specification, times: int) -> None:
    predicted = option.model_dump(mode="json", include={"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"})
    predicted["output_tokens_per_s"] = option.output_tokens_per_s
    observed = {
        "ttft_ms": scaled(predicted["ttft_ms"], SLOWER["ttft"]),
        "tpot_ms": scaled(predicted["tpot_ms"], SLOWER["tpot"]),
        "output_tokens_per_s": option.output_tokens_per_s * SLOWER["throughput"],
    }
    config = DeploymentConfig(
        model_id=option.model_id, gpu_id=option.gpu_id, tp=option.tp, precision=option.precision
    )
    for _ in range(times):
        await record_outcome(
            config, session=session, observed=observed, predicted=predicted, spec=spec.model_dump()
        )


def numbers(result: RecommendationResult) -> list[tuple[object, ...]]:
    return [
        (o.model_id, o.gpu_id, o.precision, o.tp, o.replicas, o.tpot_ms.mean, o.ttft_ms.mean, o.rationale)
        for o in [*result.options, *result.viable]
    ]


async def test_without_outcomes_nothing_changes_and_no_embedding_model_loads(session: Any) -> None:
    get_embedder.cache_clear()  # other tests in this process may have loaded it
    spec = chatbot()
    first = await recommend(spec, session=session)
    again = await recommend(spec, session=session)
    assert first.options
    for o in [*first.options, *first.viable]:
        assert o.corrected_by_outcomes == 0 and o.similar_outcomes is None
        assert "observed outcome" not in o.rationale
    assert numbers(first) == numbers(again)
    assert get_embedder.cache_info().currsize == 0, "recommending without outcomes loaded the embedding model"


async def test_outcomes_correct_the_next_recommendation(session: Any) -> None:
    spec = chatbot()
    before = await recommend(spec, session=session)
    top = before.options[0]
    await record_slower(session, top, spec, times=2)
    # One outcome of another configuration, as observed as predicted: it must not touch the top option.
    other = next(o for o in before.options if (o.model_id, o.gpu_id) != (top.model_id, top.gpu_id))
    await record_outcome(
        DeploymentConfig(model_id=other.model_id, gpu_id=other.gpu_id, tp=other.tp),
        session=session,
        observed={"tpot_ms": other.tpot_ms.model_dump(), "output_tokens_per_s": other.output_tokens_per_s},
        predicted={"tpot_ms": other.tpot_ms.model_dump(), "output_tokens_per_s": other.output_tokens_per_s},
        spec=spec.model_dump(),
    )

    after = await recommend(spec, session=session)
    corrected = find(after, top)
    assert corrected is not None, "the configuration observed slower should still be viable"
    assert corrected.corrected_by_outcomes == 2
    # Shrunk toward the calibrated fit: two outcomes move TPOT part of the way (in log space) to 1.6x.
    f_ttft, f_tpot, f_thr = outcome_factors(
        [OutcomeCorrection(ttft_ratio=1.2, tpot_ratio=1.6, throughput_ratio=0.65)] * 2
    )
    assert 1.15 < f_tpot < 1.3
    assert corrected.replicas >= top.replicas  # slower per replica never needs fewer replicas
    if corrected.replicas == top.replicas:
        # Same load per replica: the predicted TPOT moves from the prediction toward what was observed.
        assert corrected.tpot_ms.mean == pytest.approx(top.tpot_ms.mean * f_tpot, rel=1e-6)
        assert top.tpot_ms.mean < corrected.tpot_ms.mean < top.tpot_ms.mean * SLOWER["tpot"]
        assert corrected.ttft_ms.mean == pytest.approx(top.ttft_ms.mean * f_ttft, rel=1e-6)
        assert corrected.output_tokens_per_s == pytest.approx(top.output_tokens_per_s * f_thr, rel=1e-3)
    else:
        # The correction cost capacity: each replica now carries less, so there are more of them.
        assert corrected.requests_per_s_capacity < top.requests_per_s_capacity
    assert f"corrected by 2 observed outcomes of {top.model_id.split('/')[-1]} on {top.gpu_id}" in (
        corrected.rationale
    )
    assert f"TPOT +{round((f_tpot - 1) * 100)}%" in corrected.rationale

    # Configurations without outcomes of their own are untouched, and the one observed as predicted has
    # factors of 1 (so its numbers did not move either).
    for o in [*after.options, *after.viable]:
        if (o.model_id, o.gpu_id) == (other.model_id, other.gpu_id):
            assert o.corrected_by_outcomes == 1
        elif (o.model_id, o.gpu_id) != (top.model_id, top.gpu_id):
            assert o.corrected_by_outcomes == 0
            was = find(before, o)
            if was is not None:
                assert (o.replicas, o.tpot_ms.mean) == (was.replicas, was.tpot_ms.mean)

    # Similar outcomes: all three ran this use case; the top configuration's two are its own line.
    assert corrected.similar_outcomes is not None
    assert corrected.similar_outcomes.startswith(
        f"2 similar deployments ran at 65% of predicted throughput, with TTFT p90 at 120% of predicted "
        f"(this model on {top.gpu_id})"
    )
    assert "; overall, 3 similar deployments ran at 65-100% of predicted throughput" in (
        corrected.similar_outcomes
    )
    assert f"Observed before with this model on {top.gpu_id}" in corrected.rationale
    observed_pairs = {(top.model_id, top.gpu_id), (other.model_id, other.gpu_id)}
    for o in after.options:
        if (o.model_id, o.gpu_id) not in observed_pairs:
            assert o.similar_outcomes is not None
            assert o.similar_outcomes.startswith(
                "3 similar deployments ran at 65-100% of predicted throughput"
            )
    assert "outcomes_ms" in after.timings_ms

    # Removing the outcomes restores the uncorrected recommendation: the caches never mixed the two.
    await session.execute(delete(m.DeploymentOutcome))
    restored = await recommend(spec, session=session)
    assert numbers(restored) == numbers(before)
