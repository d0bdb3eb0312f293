"""Resolving an intent with a use-case template, and the clarifying questions."""

from __future__ import annotations

import pytest

from app.intent.clarify import apply_answer, clarifying_questions, is_dont_know
from app.intent.rules import extract
from app.intent.schema import DeploymentIntent
from app.intent.usecases import apply_template, template_for_task

pytestmark = pytest.mark.unit


def test_seed_example_resolves_with_template_slos() -> None:
    intent = extract("I need a chatbot for 1000 users, low latency is critical").intent
    template = template_for_task(intent.task_type)
    spec = apply_template(intent, template)
    assert (spec.task_type, spec.total_users, spec.priority) == ("chatbot", 1000, "latency")
    assert spec.concurrent_users is None and spec.qps_derivation is not None
    assert spec.qps_derivation.kind == "total"
    for name in ("task_type", "total_users", "priority"):
        assert spec.origins[name] == "stated"
    for name in (
        "target_ttft_p90_ms",
        "target_tpot_p90_ms",
        "target_e2e_latency_p95_ms",
        "quality_threshold",
        "reliability_target",
        "prompt_length_avg",
        "expected_qps",
        "peak_qps",
    ):
        assert spec.origins[name] == "template"
    # Latency priority tightens the template's targets.
    assert spec.target_ttft_p90_ms < template.ttft_p90_ms
    assert spec.qps_derivation is not None and spec.expected_qps == pytest.approx(
        spec.qps_derivation.steady_qps, rel=1e-3
    )
    assert "1,000 users" in spec.notes["expected_qps"]


def test_stated_values_win_over_the_template() -> None:
    intent = extract("summarization, TTFT under 800 ms, 5 requests per second, cheapest possible").intent
    spec = apply_template(intent, template_for_task(intent.task_type))
    assert spec.target_ttft_p90_ms == 800 and spec.origins["target_ttft_p90_ms"] == "stated"
    assert spec.expected_qps == 5 and spec.origins["expected_qps"] == "stated"
    assert spec.peak_qps >= 5


def test_empty_intent_still_resolves_with_labelled_defaults() -> None:
    spec = apply_template(
        DeploymentIntent(), template_for_task(None), unknown_fields=frozenset({"total_users"})
    )
    assert set(spec.origins.values()) == {"template"}
    assert "don't know" in spec.notes["total_users"]


def test_at_most_two_questions_most_valuable_first() -> None:
    questions = clarifying_questions(DeploymentIntent())
    assert [q.key for q in questions] == ["task", "load"]
    assert clarifying_questions(extract("chatbot for 1000 users, cheap").intent) == []
    assert [q.key for q in clarifying_questions(extract("a chatbot").intent)] == ["load", "priority"]


def test_dont_know_continues_with_defaults() -> None:
    intent = extract("a chatbot").intent
    load = clarifying_questions(intent)[0]
    for answer in ("I don't know", "no idea", "idk", "not sure", ""):
        assert is_dont_know(answer)
        same, unknown = apply_answer(intent, load, answer)
        assert same == intent and unknown == frozenset(load.fields)
    updated, unknown = apply_answer(intent, load, "about 2,000 people")
    assert updated.total_users == 2000 and not unknown
    assert not is_dont_know("about 2,000 people")


def test_template_e2e_target_is_raised_to_what_ttft_and_tpot_imply() -> None:
    """The seed design's chatbot pairs 2 s end-to-end with 50 ms/token × 200 tokens: raise it, and say why."""
    from app.intent.rules import extract
    from app.intent.usecases import apply_template, template_for_task

    spec = apply_template(extract("a chatbot for 1000 users").intent, template_for_task("chatbot"))
    implied = spec.target_ttft_p90_ms + spec.generation_length_avg * spec.target_tpot_p90_ms
    assert spec.target_e2e_latency_p95_ms >= implied
    assert spec.origins["target_e2e_latency_p95_ms"] == "template"
    assert "raised from 2000 ms" in spec.notes["target_e2e_latency_p95_ms"]

    stated = apply_template(
        extract("a chatbot for 1000 users, end-to-end within 2 seconds").intent, template_for_task("chatbot")
    )
    assert stated.target_e2e_latency_p95_ms == 2000
    assert stated.origins["target_e2e_latency_p95_ms"] == "stated"
