"""Specification edits: from the settings panel or from words ("what if we use L40S?"), to field changes.

Everything here is pure except :func:`settings_widgets`, which builds Chainlit input widgets (imported
lazily). Changes are applied with :meth:`Specification.edit`, which re-checks every bound and marks the
fields ``edited``; a user-count change re-derives the load by its kind's rule (``Specification.edit``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from app.chat.labels import (
    DEPLOYMENT_LABELS,
    PRIORITY_LABELS,
    TASK_LABELS,
    field_label,
    format_value,
    sig,
)
from app.errors import Invalid
from app.intent.rules import extract
from app.intent.schema import PRIORITIES, TASK_TYPES, Specification

DEPLOYMENT_MODELS = ("cloud_rental", "owned_hardware", "purchase")
ANY = "any"

# Settings panel: (field, label, kind). Kinds: number, select:<values>, gpus, provider.
NUMBER_FIELDS: list[tuple[str, str]] = [
    ("total_users", "Users in total (0: not set)"),
    ("daily_users", "Users per day (0: not set)"),
    ("concurrent_users", "Users at once (0: not set)"),
    ("expected_qps", "Steady load, requests per second"),
    ("prompt_length_avg", "Average prompt, tokens"),
    ("generation_length_avg", "Average response, tokens"),
    ("target_ttft_p90_ms", "Time to first token, p90 target, ms"),
    ("target_tpot_p90_ms", "Time per output token, p90 target, ms"),
    ("target_e2e_latency_p95_ms", "Full response time, p95 target, ms"),
    ("max_monthly_cost_usd", "Monthly budget, USD (0: no limit)"),
    ("power_cost_per_kwh", "Power price, USD per kWh (owned or bought GPUs; 0: not set)"),
]
_USER_FIELDS = {"concurrent_users", "daily_users", "total_users"}
INT_FIELDS = {*_USER_FIELDS, "prompt_length_avg", "generation_length_avg"}
NULLABLE_FIELDS = {*_USER_FIELDS, "max_monthly_cost_usd", "power_cost_per_kwh"}


def settings_values(spec: Specification) -> dict[str, Any]:
    """The settings panel's values for ``spec`` (what `settings_widgets` shows initially)."""
    values: dict[str, Any] = {
        "task_type": spec.task_type,
        "priority": spec.priority,
        "deployment_model": spec.deployment_model,
        "cloud_provider": spec.cloud_provider or ANY,
        "available_gpus": list(spec.available_gpus),
    }
    for name, _ in NUMBER_FIELDS:
        value = getattr(spec, name)
        # The panel shows numbers for people: 0.6666666 reads 0.667; "not set" is 0 (its label says so).
        values[name] = (
            0
            if value is None
            else float(sig(value, 3).replace(",", ""))
            if isinstance(value, float)
            else value
        )
    return values


def settings_widgets(spec: Specification, *, gpus: list[str], providers: list[str]) -> list[Any]:
    from chainlit.input_widget import MultiSelect, NumberInput, Select

    values = settings_values(spec)
    widgets: list[Any] = [
        Select(
            id="task_type",
            label="Use case",
            items={TASK_LABELS[t]: t for t in TASK_TYPES},
            initial_value=spec.task_type,
        ),
        Select(
            id="priority",
            label="What matters most",
            items={PRIORITY_LABELS[p]: p for p in PRIORITIES},
            initial_value=spec.priority,
        ),
    ]
    for name, label in NUMBER_FIELDS:
        widgets.append(NumberInput(id=name, label=label, initial=values[name]))
    widgets += [
        MultiSelect(
            id="available_gpus",
            label="GPUs allowed (none selected: any)",
            values=sorted(set(gpus) | set(spec.available_gpus)),
            initial=list(spec.available_gpus),
        ),
        Select(
            id="cloud_provider",
            label="Provider",
            values=[ANY, *sorted(set(providers) | ({spec.cloud_provider} if spec.cloud_provider else set()))],
            initial_value=values["cloud_provider"],
        ),
        Select(
            id="deployment_model",
            label="Hardware",
            items={DEPLOYMENT_LABELS[d]: d for d in DEPLOYMENT_MODELS},
            initial_value=spec.deployment_model,
        ),
    ]
    return widgets


class EditError(Invalid, ValueError):
    """A settings-panel value that is not a number or out of range; the message names the field."""


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{value!r} is not a number") from e
    if math.isnan(number):
        return None
    return number


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def changes_from_settings(spec: Specification, settings: dict[str, Any]) -> dict[str, Any]:
    """The fields the person moved in the settings panel (compared with what the panel showed)."""
    shown = settings_values(spec)
    changes: dict[str, Any] = {}
    for name in ("task_type", "priority", "deployment_model"):
        if name in settings and settings[name] and settings[name] != getattr(spec, name):
            changes[name] = settings[name]
    if "cloud_provider" in settings:
        provider = None if settings["cloud_provider"] in (None, "", ANY) else settings["cloud_provider"]
        if provider != spec.cloud_provider:
            changes["cloud_provider"] = provider
    if "available_gpus" in settings:
        gpus = list(settings["available_gpus"] or [])
        if sorted(gpus) != sorted(spec.available_gpus):
            changes["available_gpus"] = gpus
    for name, label in NUMBER_FIELDS:
        if name not in settings:
            continue
        try:
            number = _number(settings[name])
        except ValueError as e:
            raise EditError(f"{label}: {e}") from e
        if number is None or (number == 0 and name in NULLABLE_FIELDS):
            if name in NULLABLE_FIELDS and getattr(spec, name) is not None:
                changes[name] = None
            continue
        value: Any = round(number) if name in INT_FIELDS else number
        if not _same(value, shown[name]) and not _same(value, getattr(spec, name)):
            changes[name] = value
    return changes


def apply_changes(spec: Specification, changes: dict[str, Any]) -> Specification:
    """``spec`` with ``changes``; a new user count re-derives steady and peak load by its kind's rule
    (``Specification.edit`` does it)."""
    return spec.edit(**changes)


# --- edits in words --------------------------------------------------------------------------------------

_FACTORS = {"double": 2.0, "twice": 2.0, "triple": 3.0, "quadruple": 4.0, "halve": 0.5, "half": 0.5}
_LOAD_WORDS = r"(?:users?|people|traffic|load|requests|qps|rate)"
_RELATIVE = re.compile(
    rf"\b(?P<word>double|twice|triple|quadruple|halve|half)\b[^.?!]{{0,20}}?\b{_LOAD_WORDS}\b"
    rf"|\b(?P<times>\d+(?:\.\d+)?)\s*(?:x|times)\s+(?:the\s+|more\s+)?{_LOAD_WORDS}\b",
    re.IGNORECASE,
)
_TIGHTEN_PCT = re.compile(
    r"\b(?P<dir>tighten|loosen|relax|cut|reduce|lower|raise|increase)\s+(?:the\s+)?(?P<metric>ttft|tpot|e2e)"
    r"[^%\d]{0,20}?by\s+(?P<pct>\d+(?:\.\d+)?)\s*%",
    re.IGNORECASE,
)
_PRIORITY = re.compile(
    r"\b(?:optimi[sz]e|prioriti[sz]e|focus)\s+(?:for|on)\s+(?P<what>cost|price|latency|speed|quality|accuracy|"
    r"balance)|\b(?P<cheap>cheapest|cheaper|lowest cost)\b",
    re.IGNORECASE,
)
_DEPLOYMENT = re.compile(
    r"\b(?P<own>(?:we\s+)?own\s+(?:the\s+)?(?:hardware|gpus))|\b(?P<buy>buy|purchase)\s+(?:the\s+)?"
    r"(?:hardware|gpus)|\b(?P<rent>rent|in the cloud)\b",
    re.IGNORECASE,
)
_ANY_GPU = re.compile(r"\b(?:any|all)\s+gpus?\b", re.IGNORECASE)
_METRIC_FIELD = {
    "ttft": "target_ttft_p90_ms",
    "tpot": "target_tpot_p90_ms",
    "e2e": "target_e2e_latency_p95_ms",
}
_PRIORITY_WORD = {
    "cost": "cost",
    "price": "cost",
    "latency": "latency",
    "speed": "latency",
    "quality": "accuracy",
    "accuracy": "accuracy",
    "balance": "balanced",
}


def changes_from_text(text: str, spec: Specification) -> dict[str, Any]:
    """Field changes a what-if sentence asks for; empty when it asks for none."""
    changes: dict[str, Any] = {}
    stated = extract(text).intent.stated()
    stated.pop("use_case_description", None)
    for key, value in stated.items():
        if key in {"budget", "datacenter_context"}:
            changes.update({k: v for k, v in value.items() if v is not None})
        elif key == "gpu_inventory":
            continue  # inventories are edited in words only when planning owned hardware from scratch
        elif key in Specification.model_fields:
            changes[key] = value
    # The extractor reads "a chatbot" in any sentence; a what-if changes the use case only when it says so.
    if "task_type" in changes and not re.search(r"\b(?:use case|instead|switch|change)\b", text, re.I):
        changes.pop("task_type")
    match = _RELATIVE.search(text)
    if match:
        factor = _FACTORS[match.group("word").lower()] if match.group("word") else float(match.group("times"))
        users_field = spec.users_field
        if users_field is not None:
            changes[users_field] = max(1, round(getattr(spec, users_field) * factor))
        else:
            changes["expected_qps"] = spec.expected_qps * factor
            changes["peak_qps"] = spec.peak_qps * factor
    match = _TIGHTEN_PCT.search(text)
    if match:
        field = _METRIC_FIELD[match.group("metric").lower()]
        pct = float(match.group("pct")) / 100
        tighter = match.group("dir").lower() in {"tighten", "cut", "reduce", "lower"}
        changes[field] = getattr(spec, field) * (1 - pct if tighter else 1 + pct)
    match = _PRIORITY.search(text)
    if match:
        changes["priority"] = "cost" if match.group("cheap") else _PRIORITY_WORD[match.group("what").lower()]
    match = _DEPLOYMENT.search(text)
    if match:
        changes["deployment_model"] = (
            "owned_hardware" if match.group("own") else "purchase" if match.group("buy") else "cloud_rental"
        )
    if _ANY_GPU.search(text) and spec.available_gpus:
        changes["available_gpus"] = []
    return {k: v for k, v in changes.items() if not _same(v, getattr(spec, k, None))}


def describe_changes(before: Specification, changes: dict[str, Any]) -> str:
    parts = []
    for key, value in changes.items():
        old = getattr(before, key, None)
        parts.append(f"{field_label(key)} {format_value(key, old)} → {format_value(key, value)}")
    return "; ".join(parts)


_COMPARE = re.compile(
    r"^compare\s+(?:scenarios?\s+)?(?P<a>[a-z]\d*)\s*(?:with|and|to|vs\.?|versus|,|&)\s*"
    r"(?:scenario\s+)?(?P<b>[a-z]\d*)\s*[.!?]?$",
    re.IGNORECASE,
)


def compare_refs(text: str) -> tuple[str, str] | None:
    """ "compare A with C" / "compare scenario B and scenario D" -> ("A", "C"); None for plain "compare"."""
    match = _COMPARE.match(text.strip())
    return (match.group("a").upper(), match.group("b").upper()) if match else None
