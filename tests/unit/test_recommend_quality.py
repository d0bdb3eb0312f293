"""Quality that fits the task: scores compared only within one benchmark and source, per-task indexes with
their sources, 'unknown' instead of a size guess, instruct never scored with base numbers, a size floor per
task, and a named model as a quality floor."""

from __future__ import annotations

import pytest
from support.catalog import seed_catalog, seed_profiles

from app.intent.schema import DeploymentIntent, Specification
from app.intent.usecases import apply_template, template_for_task
from app.planning.plan import plan
from app.planning.quality import ModelFacts, quality_profiles, task_quality

pytestmark = pytest.mark.unit


def row(bench: str, source: str, score: float, family: str = "general", **kw: object) -> dict[str, object]:
    return {"benchmark": bench, "source": source, "score": score, "family": family, **kw}


def facts(scores: dict[str, list[dict[str, object]]]) -> list[ModelFacts]:
    return [ModelFacts(mid, "f", 8.0, 8.0, tuple(rows)) for mid, rows in scores.items()]


def test_a_source_on_another_scale_or_testing_only_strong_models_does_not_move_the_order() -> None:
    base = {
        "a": [row("mmlu", "s1", 60), row("arena", "s2", 1100)],
        "b": [row("mmlu", "s1", 70), row("arena", "s2", 1150)],
        "c": [row("mmlu", "s1", 80), row("arena", "s2", 1250), row("hard", "s3", 30)],
        "d": [row("hard", "s3", 40)],
    }
    q = quality_profiles(facts(base))
    order = sorted(q, key=lambda m: q[m].standings["general"].value)
    assert order == ["a", "b", "c", "d"]  # d beats c where both were tested, though its raw score is low
    # Rescaling one source (Elo vs percent, fractions vs percent) changes nothing.
    scaled = {
        m: [dict(r, score=r["score"] * 10) if r["source"] == "s2" else r for r in rows]
        for m, rows in base.items()
    }
    q2 = quality_profiles(facts(scaled))
    for m in base:
        assert q2[m].standings["general"].value == pytest.approx(q[m].standings["general"].value, abs=1e-9)


def test_no_comparable_score_is_unknown_never_a_size_estimate_and_base_rows_never_score_instruct() -> None:
    q = quality_profiles(
        [
            ModelFacts("lonely/70b", "f", 70.0, 70.0, (row("own-bench", "own-card", 90),)),
            ModelFacts("instruct/8b", "f", 8.0, 8.0, (row("mmlu", "s1", 65, base_checkpoint=True),)),
            ModelFacts("x/7b", "f", 7.0, 7.0, (row("mmlu", "s1", 60),)),
            ModelFacts("y/9b", "f", 9.0, 9.0, (row("mmlu", "s1", 62),)),
        ]
    )
    for mid in ("lonely/70b", "instruct/8b"):
        got = task_quality(q[mid], "chatbot")
        assert got.basis == "unknown" and "not estimated from model size" in got.detail
    assert task_quality(q["y/9b"], "chatbot").basis == "published"


def test_task_quality_uses_the_task_families_with_their_sources() -> None:
    profiles = seed_profiles()
    coder = "Qwen/Qwen2.5-Coder-32B-Instruct"
    code = task_quality(profiles[coder], "code_generation")
    chat = task_quality(profiles[coder], "chatbot")
    assert "coding" in code.families and "coding" not in chat.families
    assert code.index > chat.index
    assert "evalplus_leaderboard" in code.sources
    legal = task_quality(profiles["Qwen/Qwen2.5-7B-Instruct"], "summarization", "legal contracts")
    assert {"general", "math_reasoning"} <= set(legal.families)


def _spec(**fields: object) -> Specification:
    extra = {k: v for k, v in fields.items() if k not in DeploymentIntent.model_fields}
    intent = DeploymentIntent(**{k: v for k, v in fields.items() if k in DeploymentIntent.model_fields})
    s = apply_template(intent, template_for_task(intent.task_type or "chatbot"))
    return s.edit(**extra) if extra else s


def test_a_half_billion_model_never_wins_legal_summarisation_at_lowest_cost() -> None:
    models = ["Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.2-1B-Instruct"]
    catalog = seed_catalog(models, {"L4": 0.8, "L40S-48GB": 1.9})
    s = _spec(
        task_type="summarization",
        subject_matter="legal",
        concurrent_users=100,
        priority="cost",
        quality_threshold="standard",
    )
    result = plan(s, catalog)
    assert result.options
    shown = {o.model_id for o in result.options + result.viable}
    assert shown == {"Qwen/Qwen2.5-7B-Instruct"}
    floor = [r for r in result.rejected if r.model_id == "Qwen/Qwen2.5-0.5B-Instruct"]
    assert floor and "7 B minimum for summarization" in floor[0].reason
    assert result.options[0].quality.task == "summarization"


def test_a_named_model_sets_the_floor_and_smaller_ones_are_never_ranked_as_equal() -> None:
    models = [
        "meta-llama/Llama-3.2-3B-Instruct",
        "meta-llama/Llama-3.1-8B-Instruct",
        "Qwen/Qwen2.5-72B-Instruct",
        "meta-llama/Llama-3.3-70B-Instruct",
    ]
    catalog = seed_catalog(models, {"H100-SXM-80GB": 2.5, "L40S-48GB": 1.9})
    s = _spec(
        task_type="chatbot",
        concurrent_users=200,
        priority="cost",
        quality_reference_model="meta-llama/Llama-3.1-70B-Instruct",
    )
    result = plan(s, catalog)
    ref = task_quality(seed_profiles()["meta-llama/Llama-3.1-70B-Instruct"], "chatbot").index
    assert result.options
    for o in result.options + result.viable:
        assert o.quality.index >= ref - 3.0, o.model_id
        assert o.model_id not in ("meta-llama/Llama-3.2-3B-Instruct", "meta-llama/Llama-3.1-8B-Instruct")
    labelled = [r for r in result.rejected if "lower quality than Llama-3.1-70B-Instruct" in r.reason]
    assert {r.model_id for r in labelled} >= {"meta-llama/Llama-3.1-8B-Instruct"}


def test_unknown_quality_passes_only_standard_and_ranks_below_known_for_accuracy() -> None:
    models = ["openai/gpt-oss-20b", "Qwen/Qwen3-8B"]
    catalog = seed_catalog(models, {"H100-SXM-80GB": 2.5})
    high = plan(_spec(task_type="chatbot", concurrent_users=50, quality_threshold="high"), catalog)
    assert {o.model_id for o in high.options} == {"Qwen/Qwen3-8B"}
    assert any(r.model_id == "openai/gpt-oss-20b" and "unknown" in r.reason for r in high.rejected)
    std = plan(
        _spec(task_type="chatbot", concurrent_users=50, quality_threshold="standard", priority="accuracy"),
        catalog,
    )
    ids = [o.model_id for o in std.options]
    assert ids.index("Qwen/Qwen3-8B") < ids.index("openai/gpt-oss-20b")
    unknown = next(o for o in std.options if o.model_id == "openai/gpt-oss-20b")
    assert unknown.quality.basis == "unknown"


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("A support chatbot for 3000 employees, Llama 3.1 70B quality.", "meta-llama/Llama-3.1-70B-Instruct"),
        ("We need something as good as Qwen2.5-72B for legal summaries", "Qwen/Qwen2.5-72B-Instruct"),
        ("Use Llama 3.1 8B for a chatbot for 200 users", None),
    ],
)
def test_a_model_named_as_a_quality_level_is_read_as_a_floor_not_a_pick(
    text: str, reference: str | None
) -> None:
    from app.intent.rules import extract

    intent = extract(text).intent
    assert intent.quality_reference_model == reference
    assert bool(intent.preferred_models) == (reference is None)


def test_a_far_smaller_model_must_beat_the_named_model_head_to_head_to_count_as_its_equal() -> None:
    from app.planning.quality import direct_evidence, needs_direct_evidence

    q = quality_profiles(
        [
            ModelFacts("big/70b", "f", 70.0, 70.0, (row("mmlu", "s1", 80), row("ifeval", "s2", 85))),
            ModelFacts("small/8b", "f", 8.0, 8.0, (row("mmlu", "s1", 81), row("mmlu", "s3", 50))),
            ModelFacts("other/8b", "f", 8.0, 8.0, (row("mmlu", "s3", 70), row("ifeval", "s2", 60))),
            ModelFacts("mid/32b", "f", 32.0, 32.0, (row("mmlu", "s1", 70),)),
        ]
    )
    assert needs_direct_evidence(q["small/8b"], q["big/70b"]) and not needs_direct_evidence(
        q["mid/32b"], q["big/70b"]
    )
    assert direct_evidence(q["small/8b"], q["big/70b"], "chatbot") == "mmlu (s1): 81 vs 80"
    assert direct_evidence(q["other/8b"], q["big/70b"], "chatbot") is None  # lost the one shared benchmark

    models = ["Qwen/Qwen3-14B", "Qwen/Qwen2.5-32B-Instruct"]
    catalog = seed_catalog(models, {"H100-SXM-80GB": 2.5})
    s = _spec(
        task_type="chatbot", concurrent_users=100, quality_reference_model="meta-llama/Llama-3.1-70B-Instruct"
    )
    result = plan(s, catalog)
    assert {o.model_id for o in result.options} == {"Qwen/Qwen2.5-32B-Instruct"}
    reason = next(r.reason for r in result.rejected if r.model_id == "Qwen/Qwen3-14B")
    assert "not shown to match Llama-3.1-70B-Instruct" in reason
