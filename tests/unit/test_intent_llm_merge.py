"""Merging the LLM's reading with the rules': typed numbers win, unsupported values are dropped.

The fixtures are real ``openai.types.chat.ChatCompletion`` objects shaped as an OpenAI-compatible server
returns them in tool-calling mode (Instructor's TOOLS mode).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.chat import ChatCompletion

from app.intent.llm import LlmUnavailable, intent_from_completion, merge_intents
from app.intent.rules import extract

pytestmark = pytest.mark.unit


def completion(arguments: dict[str, Any] | str, *, as_tool: bool = True) -> ChatCompletion:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    message: dict[str, Any] = {"role": "assistant", "content": None if as_tool else args}
    if as_tool:
        message["tool_calls"] = [
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": "DeploymentIntent", "arguments": args},
            }
        ]
    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "gemma",
            "choices": [
                {"index": 0, "finish_reason": "tool_calls" if as_tool else "stop", "message": message}
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
    )


def merged(text: str, llm_args: dict[str, Any]) -> dict[str, Any]:
    out = merge_intents(extract(text), intent_from_completion(completion(llm_args)), text).stated()
    out.pop("use_case_description", None)
    return out


def test_typed_numbers_win_over_the_llms() -> None:
    text = "I need a chatbot for 1000 users, low latency is critical"
    got = merged(text, {"task_type": "chatbot", "total_users": 5000, "priority": "latency"})
    assert got["total_users"] == 1000


def test_invented_numbers_are_dropped() -> None:
    text = "a chatbot for our support team"
    got = merged(
        text,
        {
            "task_type": "chatbot",
            "total_users": 250,
            "expected_qps": 12,
            "budget": {"max_monthly_cost_usd": 5000},
            "target_ttft_p90_ms": 300,
        },
    )
    assert got == {"task_type": "chatbot", "subject_matter": "customer support"}


def test_llm_fills_fields_the_rules_missed_when_the_text_supports_them() -> None:
    text = "Our analysts (about 75 of them) will ask questions about quarterly filings"
    got = merged(text, {"task_type": "rag_qa", "total_users": 75, "subject_matter": "finance"})
    assert got["total_users"] == 75
    assert got["task_type"] == "rag_qa"


def test_unit_conversions_count_as_typed() -> None:
    text = "answers should be done in 2 s, tokens streaming at 25 per second"
    got = merged(text, {"target_e2e_latency_p95_ms": 2000, "target_tpot_p90_ms": 40})
    assert got["target_e2e_latency_p95_ms"] == 2000
    assert got["target_tpot_p90_ms"] == 40


def test_models_and_gpus_must_be_mentioned_and_in_the_catalog() -> None:
    text = "we'd like to run it on H100s"
    got = merged(
        text,
        {
            "available_gpus": ["H100", "B200"],
            "preferred_models": ["meta-llama/Llama-3.1-8B-Instruct"],
            "cloud_provider": "AWS",
        },
    )
    assert got["available_gpus"] == ["H100-SXM-80GB"]
    assert "preferred_models" not in got and "cloud_provider" not in got


def test_llm_cannot_push_values_out_of_bounds() -> None:
    for bad in (
        {"total_users": 10**12},
        {"budget": {"max_monthly_cost_usd": 0}},
        {"target_ttft_p90_ms": -5},
        {"task_type": "hack"},
        {"set_budget": 0},
    ):
        with pytest.raises(LlmUnavailable, match="not a valid DeploymentIntent"):
            intent_from_completion(completion(bad))


def test_json_content_and_garbage() -> None:
    assert (
        intent_from_completion(completion({"task_type": "translation"}, as_tool=False)).task_type
        == "translation"
    )
    with pytest.raises(LlmUnavailable):
        intent_from_completion(completion("not json at all", as_tool=False))
