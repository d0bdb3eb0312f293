"""Reading a person's answer to a clarifying question so that no answer is silently dropped.

An answer is one of:
- "I don't know": the question's fields go to labelled defaults (that is an answer too);
- readable: its values fill the intent;
- beyond the schema's bounds ("a trillion users"): a message that names the bound, and the question again;
- unreadable ("blah"): a follow-up that says what kind of answer would work, and the question again.
Values inside the bounds but implausible are kept; :func:`app.chat.views.plausibility_flags` flags them
on the specification and the person confirms them before planning. Pure: no Chainlit, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.chat.labels import field_label
from app.intent.clarify import ClarifyingQuestion, apply_answer, is_dont_know
from app.intent.rules import extract
from app.intent.schema import MAX_USERS, DeploymentIntent

# One-word answers to "what matters most?" that the extractor needs as phrases.
_PRIORITY_WORDS = {
    "latency": "low latency",
    "speed": "low latency",
    "fast": "low latency",
    "cost": "low cost",
    "price": "low cost",
    "money": "low cost",
    "quality": "best quality",
    "accuracy": "best quality",
    "balance": "a balance",
    "both": "a balance",
    "all": "a balance",
}
_SCALE = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_NUMBER = re.compile(
    r"(?P<num>\d[\d,]*(?:\.\d+)?)?\s*(?P<scale>thousand|million|billion|trillion|bn|k|m)?\b"
    r"|\b(?:a|one)\s+(?P<word>thousand|million|billion|trillion)\b",
    re.IGNORECASE,
)
_IGNORED = re.compile(r"ignored (?P<field>\w+)=(?P<value>\S+) .*less than or equal to (?P<bound>[\d.e+]+)")
_WHAT = {
    "task": "a use case",
    "load": "a number of users or requests per second",
    "priority": "what matters most",
}


@dataclass(frozen=True)
class AnswerReading:
    intent: DeploymentIntent
    unknown: frozenset[str]  # fields left to labelled defaults ("I don't know")
    problem: str | None = None  # set: tell the person, then ask the same question again


def _largest_number(text: str) -> float | None:
    best: float | None = None
    for m in _NUMBER.finditer(text):
        if m.group("word"):
            value = _SCALE[m.group("word").lower()]
        elif m.group("num"):
            value = float(m.group("num").replace(",", ""))
            if m.group("scale"):
                value *= _SCALE[m.group("scale").lower()]
        else:
            continue
        best = value if best is None else max(best, value)
    return best


def _bound_problem(question: ClarifyingQuestion, reply: str, warnings: list[str]) -> str | None:
    for w in warnings:
        m = _IGNORED.search(w)
        if m and m.group("field") in question.fields:
            bound = float(m.group("bound"))
            return (
                f"{m.group('value')} is more than I can plan for: {field_label(m.group('field')).lower()} "
                f"can be at most {bound:,.0f}."
            )
    if question.key == "load":
        value = _largest_number(reply)
        if (
            value is not None
            and value > MAX_USERS
            and not re.search(r"per\s+(?:second|sec|s)\b|/s|qps", reply)
        ):
            return (
                f"{value:,.0f} users is more than I can plan for: the most is {MAX_USERS:,} users "
                "(about everyone online in a large country)."
            )
    return None


def read_answer(intent: DeploymentIntent, question: ClarifyingQuestion, reply: str) -> AnswerReading:
    """Fold ``reply`` into ``intent``, or say why it cannot be used (see the module docstring)."""
    if is_dont_know(reply):
        return AnswerReading(intent, frozenset(question.fields))
    text = reply.strip()
    if question.key == "priority":
        text = _PRIORITY_WORDS.get(text.lower().strip(" .!"), text)
    problem = _bound_problem(question, text, extract(text).warnings)
    if problem is not None:
        return AnswerReading(intent, frozenset(), problem)
    updated, unknown = apply_answer(intent, question, text)
    if unknown:  # apply_answer found nothing to use: never turn that into a silent "don't know"
        examples = ", ".join(f"*{o}*" for o in question.options[:3])
        return AnswerReading(
            intent,
            frozenset(),
            f"I couldn't read {_WHAT.get(question.key, 'an answer')} from “{reply.strip()}”. "
            f"Try something like {examples}, or say *I don't know*.",
        )
    return AnswerReading(updated, frozenset())
