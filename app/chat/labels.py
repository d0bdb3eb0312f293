"""Words and number formats a person reads in the chat: one place for every label and unit.

Internal names (``target_ttft_p90_ms``, ``rag_qa``, ``cloud_rental``) never reach the screen; views, the
settings panel and the what-if summaries all take their wording from here. Pure: no Chainlit, no I/O.
"""

from __future__ import annotations

import math
from typing import Any

TASK_LABELS: dict[str, str] = {
    "chatbot": "Chatbot",
    "code_completion": "Code completion",
    "code_generation": "Code generation",
    "summarization": "Summarization",
    "rag_qa": "Questions over documents (RAG)",
    "translation": "Translation",
    "content_generation": "Content writing",
    "batch_processing": "Batch processing",
}
PRIORITY_LABELS: dict[str, str] = {
    "latency": "Fast responses",
    "cost": "Low cost",
    "accuracy": "Best quality",
    "balanced": "Balanced",
}
DEPLOYMENT_LABELS: dict[str, str] = {
    "cloud_rental": "Rent cloud GPUs",
    "owned_hardware": "GPUs we own",
    "purchase": "Buy GPUs",
}
PRICE_CLASS_LABELS: dict[str, str] = {
    "hyperscaler": "Hyperscalers only (AWS, GCP, Azure)",
    "mainstream": "Mainstream clouds",
    "marketplace": "Marketplace / spot is fine",
}
VALUE_LABELS: dict[str, dict[str, str]] = {
    "task_type": TASK_LABELS,
    "priority": PRIORITY_LABELS,
    "deployment_model": DEPLOYMENT_LABELS,
    "price_class": PRICE_CLASS_LABELS,
}

# Specification fields as a person names them.
FIELD_LABELS: dict[str, str] = {
    "task_type": "Use case",
    "subject_matter": "Subject",
    "priority": "Priority",
    "concurrent_users": "Users at once",
    "daily_users": "Users per day",
    "total_users": "Users in total",
    "expected_qps": "Steady load",
    "peak_qps": "Peak load",
    "prompt_length_avg": "Average prompt",
    "generation_length_avg": "Average response",
    "burstiness_pattern": "Traffic shape",
    "target_ttft_p90_ms": "Time to first token (p90)",
    "target_tpot_p90_ms": "Time per output token (p90)",
    "target_e2e_latency_p95_ms": "Full response time (p95)",
    "target_throughput_rps": "Throughput",
    "quality_threshold": "Quality",
    "reliability_target": "Availability",
    "max_monthly_cost_usd": "Monthly budget",
    "max_hourly_cost_usd": "Hourly budget",
    "available_gpus": "GPUs allowed",
    "excluded_gpus": "GPUs ruled out",
    "gpu_inventory": "GPUs owned",
    "max_gpus": "Most GPUs",
    "preferred_models": "Preferred models",
    "cloud_provider": "Provider",
    "region": "Region",
    "deployment_model": "Hardware",
    "power_cost_per_kwh": "Power price",
    "price_class": "Price sources",
    "batch_items": "Items per run",
    "batch_window_hours": "Run deadline",
    "batch_runs_per_month": "Runs per month",
}

# Short metric names for tables: (label, unit) of each SLO metric of an option.
METRIC_LABELS: dict[str, str] = {
    "ttft_p90_ms": "TTFT p90",
    "tpot_p90_ms": "TPOT p90",
    "e2e_p95_ms": "E2E p95",
    "throughput_rps": "Throughput",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def value_label(name: str, value: Any) -> str:
    """An enumerated value in words ("rag_qa" -> "Questions over documents (RAG)")."""
    return VALUE_LABELS.get(name, {}).get(str(value), str(value).replace("_", " "))


def sig(value: float, digits: int = 3) -> str:
    """A number with ``digits`` significant figures and thousands separators (0.6666 -> 0.667)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def usd(value: float) -> str:
    return f"${value:,.2f}" if abs(value) < 10 else f"${value:,.0f}"


def ms(value: float) -> str:
    return f"{value:,.1f} ms" if abs(value) < 10 else f"{value:,.0f} ms"


def qps(value: float) -> str:
    return f"{sig(value)} req/s"


def gpus_phrase(items: list[Any]) -> str:
    """Owned GPUs ``[{gpu, count}]`` (dicts or objects) as "8× H100-SXM-80GB, 4× A100-80GB"."""
    parts = []
    for item in items:
        gpu = item["gpu"] if isinstance(item, dict) else item.gpu
        count = item["count"] if isinstance(item, dict) else item.count
        parts.append(f"{count}× {gpu}")
    return ", ".join(parts)


def format_value(name: str, value: Any) -> str:
    """A specification field's value for people: units, separators, words for codes."""
    if value is None or value == []:
        return "any" if name in {"available_gpus", "preferred_models", "cloud_provider"} else "none"
    if name in VALUE_LABELS:
        return value_label(name, value)
    if name == "gpu_inventory":
        return gpus_phrase(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if name.endswith("_ms"):
        return ms(float(value))
    if name in {"expected_qps", "peak_qps", "target_throughput_rps"}:
        return qps(float(value))
    if name == "max_monthly_cost_usd":
        return f"{usd(float(value))}/month"
    if name == "max_hourly_cost_usd":
        return f"${float(value):,.2f}/hour"
    if name == "power_cost_per_kwh":
        return f"${float(value):.3f}/kWh"
    if name in {"prompt_length_avg", "generation_length_avg"}:
        return f"{int(value):,} tokens"
    if name == "reliability_target":
        return f"{float(value):g}%"
    if name == "batch_window_hours":
        return f"{sig(float(value))} h"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return sig(value) if not value.is_integer() else f"{int(value):,}"
    return str(value).replace("_", " ")


def short_model(model_id: str) -> str:
    """ "meta-llama/Llama-3.1-8B-Instruct" -> "Llama-3.1-8B" (the full id is in the details)."""
    return model_id.rsplit("/", 1)[-1].removesuffix("-Instruct")
