"""Use-case templates found by pgvector similarity over real embeddings; resolution into a Specification."""

from __future__ import annotations

import pytest

from app.auth import Principal
from app.config import get_settings
from app.intent.rules import extract
from app.services.context import Context
from app.services.intent_data import find_template
from app.services.specify import specify


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("customer support assistant that chats with our users", "chatbot"),
        ("autocomplete in our editor while developers type", "code_completion"),
        ("question answering over our internal wiki with retrieved documents", "rag_qa"),
        ("nightly job classifying thousands of support tickets", "batch_processing"),
        ("condense long legal contracts into a one page brief", "summarization"),
        ("translate product descriptions from English into German and French", "translation"),
    ],
)
async def test_closest_template_by_meaning(session, text: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    template, similarity = await find_template(text, session=session)
    assert template.task_type == expected, (template.id, similarity)
    assert 0.2 < similarity <= 1.0


async def test_seed_example_resolves_with_template_slos(session) -> None:  # type: ignore[no-untyped-def]
    result = extract("I need a chatbot for 1000 users, low latency is critical")
    spec = await specify(result.intent, Context(Principal.system(), session, get_settings()))
    assert spec.task_type == "chatbot" and spec.total_users == 1000 and spec.priority == "latency"
    assert spec.origins["task_type"] == "stated" and spec.origins["total_users"] == "stated"
    for slo in ("target_ttft_p90_ms", "target_tpot_p90_ms", "target_e2e_latency_p95_ms"):
        assert spec.origins[slo] == "template", slo
    assert spec.template_id is not None and spec.qps_derivation is not None
    assert spec.peak_qps >= spec.expected_qps > 0
