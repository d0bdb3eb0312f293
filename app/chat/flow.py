"""The chat's service calls, free of Chainlit: understand a message, resolve it, plan it, store it.

The handlers route Chainlit events to these functions and render what they return; the CLI and API call
the same intent and planning services underneath.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from app.auth import Principal
from app.chat import planner, store
from app.intent.clarify import ClarifyingQuestion, apply_answer, clarifying_questions
from app.intent.llm import extract_with_llm
from app.intent.rules import extract
from app.intent.schema import DeploymentIntent, Specification
from app.intent.usecases import apply_template, resolve, template_for_task
from app.planning.result import RecommendationResult
from db import models as m
from db.session import session_scope

PLAN_TIMEOUT_S = 60.0


@dataclass
class Understanding:
    intent: DeploymentIntent
    questions: list[ClarifyingQuestion]
    extracted_by: str
    warnings: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0


def understand(text: str, *, already_asked: frozenset[str] = frozenset()) -> Understanding:
    """Extract the intent (rules, plus the LLM when configured) and the questions still worth asking."""
    started = time.perf_counter()
    intent, path = extract_with_llm(text)
    warnings = extract(text).warnings
    questions = clarifying_questions(intent, already_asked=already_asked)
    return Understanding(intent, questions, path, warnings, (time.perf_counter() - started) * 1000)


def answer(
    intent: DeploymentIntent, question: ClarifyingQuestion, reply: str
) -> tuple[DeploymentIntent, frozenset[str]]:
    return apply_answer(intent, question, reply)


async def specify(intent: DeploymentIntent, *, unknown_fields: frozenset[str] = frozenset()) -> Specification:
    """Intent -> Specification. A known task uses its template directly; otherwise the closest by meaning."""
    if intent.task_type is not None:
        return apply_template(intent, template_for_task(intent.task_type), unknown_fields=unknown_fields)
    async with session_scope() as session:
        return await resolve(intent, session=session, unknown_fields=unknown_fields)


async def recommend(
    spec: Specification, *, input_text: str | None, principal: Principal
) -> RecommendationResult:
    """Plan ``spec`` and store the result owned by ``principal``; the result carries its id."""
    async with session_scope() as session:
        result = await asyncio.wait_for(
            planner.plan(spec, session=session, principal=principal, input_text=input_text),
            timeout=PLAN_TIMEOUT_S,
        )
        return await store.save_recommendation(
            result, input_text=input_text, principal=principal, session=session
        )


async def load_recommendation(rec_id: str, *, principal: Principal) -> RecommendationResult:
    async with session_scope() as session:
        return await store.load_recommendation(rec_id, principal=principal, session=session)


async def save_scenario(
    name: str, *, recommendation_id: str, rank: int, principal: Principal
) -> store.SavedScenario:
    """Save option ``rank`` of a stored recommendation through the planning service, under a free name."""
    from app.planning.scenarios import save_scenario as save

    async with session_scope() as session:
        taken = {
            s.name for s in await store.list_scenarios(principal=principal, session=session, mine_only=True)
        }
        final, n = name, 2
        while final in taken:
            final, n = f"{name} ({n})", n + 1
        view = await save(final, recommendation_id, option_rank=rank, session=session, principal=principal)
        return await store.get_scenario(view.id, principal=principal, session=session)


async def scenarios(ids: list[int], *, principal: Principal) -> list[store.SavedScenario]:
    async with session_scope() as session:
        found = await store.list_scenarios(principal=principal, session=session, ids=ids)
    by_id = {s.id: s for s in found}
    return [by_id[i] for i in ids if i in by_id]


async def principal_for(name: str) -> Principal | None:
    async with session_scope() as session:
        return await store.principal_for(name, session=session)


@dataclass(frozen=True)
class Choices:
    gpus: list[str]
    providers: list[str]


@lru_cache(maxsize=1)
def _choices_cache() -> dict[str, Any]:
    return {}


async def choices() -> Choices:
    """GPU ids and price providers for the settings panel (catalog data; read once per process)."""
    cache = _choices_cache()
    if "value" not in cache:
        async with session_scope() as session:
            gpus = list((await session.execute(select(m.Gpu.id).order_by(m.Gpu.id))).scalars())
            providers = list(
                (
                    await session.execute(select(m.Price.provider).distinct().order_by(m.Price.provider))
                ).scalars()
            )
        cache["value"] = Choices(gpus, providers)
    value: Choices = cache["value"]
    return value


def spec_from_state(data: dict[str, Any] | None) -> Specification | None:
    return Specification.model_validate(data) if data else None
