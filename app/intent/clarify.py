"""Clarifying questions: at most two, most valuable first, and "I don't know" as a valid answer.

A question is asked only when its answer changes the recommendation a lot: what the workload is (it picks
the template), how much load (it sizes the deployment), then what matters most (it ranks the options).
When the person does not know, the flow goes on with the template's defaults, labelled as such in the
Specification's notes (see ``apply_template(unknown_fields=...)``).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from app.intent.rules import extract
from app.intent.schema import DeploymentIntent
from app.intent.vocabulary import Vocabulary

MAX_QUESTIONS = 2


class ClarifyingQuestion(BaseModel):
    """One follow-up question about the fields it would fill."""

    key: str = Field(description="Stable id of the question: task, load or priority.")
    fields: list[str] = Field(description="Intent fields the answer fills.")
    question: str = Field(description="The question, as shown to the person.")
    options: list[str] = Field(default_factory=list, description="Suggested answers (free text also works).")
    if_unknown: str = Field(description="What happens when the person does not know.")


_QUESTIONS: tuple[ClarifyingQuestion, ...] = (
    ClarifyingQuestion(
        key="task",
        fields=["task_type"],
        question="What will the model mainly do: chat with people, complete or write code, summarize, answer "
        "questions over your documents, translate, write content, or run batch jobs?",
        options=[
            "chatbot",
            "code completion",
            "code generation",
            "summarization",
            "questions over documents",
            "translation",
            "content generation",
            "batch processing",
        ],
        if_unknown="I'll use the use case closest to your description and show options for a few.",
    ),
    ClarifyingQuestion(
        key="load",
        fields=["total_users", "concurrent_users", "daily_users", "expected_qps", "batch_items"],
        question="Roughly how many people will use it, or how many requests per second do you expect?",
        options=["about 100 users", "about 1,000 users", "10 requests per second"],
        if_unknown="I'll size for a small team and show how the cost grows with more users.",
    ),
    ClarifyingQuestion(
        key="priority",
        fields=["priority"],
        question="What matters most: fast responses, low cost, or the best answer quality?",
        options=["low latency", "low cost", "best quality", "a balance"],
        if_unknown="I'll balance latency, cost and quality, and show the trade-offs.",
    ),
)

_DONT_KNOW = re.compile(
    r"^\s*(?:i\s+)?(?:(?:do\s*n[o']?t|dunno|have no idea|not sure|no idea|unsure|unknown|idk|no clue|"
    r"can'?t say|whatever|any|skip|pass|n/?a|\?+)(?:\s+know)?)(?:\b|$)",
    re.IGNORECASE,
)


def is_dont_know(answer: str) -> bool:
    """Whether an answer means "I don't know" (empty answers included)."""
    return not answer.strip() or bool(_DONT_KNOW.match(answer)) or answer.strip().lower() in {"no", "nope"}


def _missing(intent: DeploymentIntent, q: ClarifyingQuestion) -> bool:
    return all(getattr(intent, f) is None for f in q.fields)


def clarifying_questions(
    intent: DeploymentIntent,
    *,
    already_asked: frozenset[str] = frozenset(),
    uncertain: dict[str, tuple[str, ...]] | None = None,
) -> list[ClarifyingQuestion]:
    """Up to two questions for what is still unknown, most valuable first (none when enough is known).

    ``uncertain`` holds the classifier's candidates for fields whose examples disagreed: the question says
    so and offers them first.
    """
    out: list[ClarifyingQuestion] = []
    for q in _QUESTIONS:
        if q.key in already_asked or not _missing(intent, q):
            continue
        candidates = [c for f in q.fields for c in (uncertain or {}).get(f, ())]
        if candidates:
            named = " or ".join(c.replace("_", " ") for c in candidates)
            q = q.model_copy(
                update={
                    "question": f"I could not tell whether this is {named}. {q.question}",
                    "options": [c.replace("_", " ") for c in candidates]
                    + [o for o in q.options if o not in {c.replace("_", " ") for c in candidates}],
                }
            )
        out.append(q)
    return out[:MAX_QUESTIONS]


def apply_answer(
    intent: DeploymentIntent, question: ClarifyingQuestion, answer: str, vocabulary: Vocabulary | None = None
) -> tuple[DeploymentIntent, frozenset[str]]:
    """Fold an answer into the intent. Returns the new intent and the fields left to labelled defaults."""
    if is_dont_know(answer):
        return intent, frozenset(question.fields)
    found = extract(answer, vocabulary).intent
    update = {f: getattr(found, f) for f in question.fields if getattr(found, f) is not None}
    # Answers often carry more than was asked ("1000 users, and it must be cheap"): keep what is new.
    for name in found.stated():
        if name != "use_case_description" and getattr(intent, name) is None and name not in update:
            update[name] = getattr(found, name)
    if not update:
        return intent, frozenset(question.fields)
    merged = intent.model_copy(update=update)
    return DeploymentIntent.model_validate(merged.model_dump()), frozenset()
