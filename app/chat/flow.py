"""The chat's calls into the service layer, free of Chainlit: understand a message, specify it, plan it.

The handlers route Chainlit events to these functions and render what they return. Understanding,
specifying and recommending are the same service functions the API and CLI call (``app.services``); this
module only opens the unit of work for the person acting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from app.auth import Principal
from app.chat import store
from app.errors import Unavailable
from app.intent.clarify import ClarifyingQuestion, apply_answer
from app.intent.clarify import clarifying_questions as clarifying_questions
from app.intent.schema import DeploymentIntent, Specification
from app.planning.result import RecommendationResult
from app.services import recommendations
from app.services import specify as specifying
from app.services.context import unit_of_work
from app.services.specify import Understanding
from db import models as m
from db.session import session_scope

PLAN_TIMEOUT_S = 60.0


async def understand(text: str, *, already_asked: frozenset[str] = frozenset()) -> Understanding:
    """Extract the intent (rules, plus the LLM when configured) and the questions still worth asking."""
    return await specifying.understand(text, already_asked=already_asked)


def answer(
    intent: DeploymentIntent, question: ClarifyingQuestion, reply: str
) -> tuple[DeploymentIntent, frozenset[str]]:
    return apply_answer(intent, question, reply)


async def specify(
    intent: DeploymentIntent, *, principal: Principal, unknown_fields: frozenset[str] = frozenset()
) -> Specification:
    async with unit_of_work(principal) as ctx:
        return await specifying.specify(intent, ctx, unknown_fields=unknown_fields)


async def recommend(
    spec: Specification, *, input_text: str | None, principal: Principal
) -> RecommendationResult:
    """Plan ``spec`` through the recommendation service; the result is stored, owned by ``principal``."""
    async with unit_of_work(principal) as ctx:
        try:
            return await asyncio.wait_for(
                recommendations.recommend_specification(spec, ctx, input_text=input_text),
                timeout=PLAN_TIMEOUT_S,
            )
        except TimeoutError as e:
            raise Unavailable(
                f"planning took longer than {PLAN_TIMEOUT_S:g} s and was stopped; try again, a narrower "
                "request (fewer GPUs or models) plans faster"
            ) from e


async def load_recommendation(rec_id: str, *, principal: Principal) -> RecommendationResult:
    async with session_scope() as session:
        return await store.load_recommendation(rec_id, principal=principal, session=session)


async def save_scenario(
    name: str, *, recommendation_id: str, rank: int, principal: Principal
) -> store.SavedScenario:
    """Save option ``rank`` of a stored recommendation through the scenario service, under a free name."""
    from app.services import scenarios as scenario_service

    async with unit_of_work(principal) as ctx:
        taken = {
            s.name
            for s in await store.list_scenarios(principal=principal, session=ctx.session, mine_only=True)
        }
        final, n = name, 2
        while final in taken:
            final, n = f"{name} ({n})", n + 1
        req = scenario_service.SaveScenarioRequest(
            name=final, recommendation_id=recommendation_id, option_rank=rank
        )
        view = await scenario_service.save(req, ctx)
        return await store.get_scenario(view.id, principal=principal, session=ctx.session)


async def scenarios(ids: list[int], *, principal: Principal) -> list[store.SavedScenario]:
    async with session_scope() as session:
        found = await store.list_scenarios(principal=principal, session=session, ids=ids)
    by_id = {s.id: s for s in found}
    return [by_id[i] for i in ids if i in by_id]


# Chainlit's sign-in page shows the translation of the response's status text, lower-cased
# (`auth.login.errors.service unavailable` in .chainlit/translations/en-US.json, the same words).
KNOWLEDGE_BASE_DOWN = (
    "The knowledge base is unavailable right now, retrying: sign in again in a few seconds. "
    "Your password was not checked."
)
SIGN_IN_ATTEMPTS = 3
SIGN_IN_RETRY_S = 0.5


async def sign_in(name: str, password: str, *, client_ip: str = "unknown") -> Principal | None:
    """The person, or None for a wrong name or password. Throttled sign-ins raise ``RateLimited``
    (:func:`app.services.people.sign_in`). While the database cannot be reached this retries briefly and then
    says so (503), so an outage never reads as a wrong password."""
    from fastapi import HTTPException
    from pydantic import ValidationError

    from app.services import people
    from app.services.context import unit_of_work
    from db.session import DatabaseUnavailableError

    try:
        req = people.SignInRequest(name=name, password=password, client_ip=client_ip)
    except ValidationError:
        return None
    for attempt in range(SIGN_IN_ATTEMPTS):
        try:
            async with unit_of_work(Principal(None, "anonymous", False)) as ctx:
                return await people.sign_in(req, ctx)
        except DatabaseUnavailableError as e:
            if attempt + 1 == SIGN_IN_ATTEMPTS:
                raise HTTPException(status_code=503, detail=KNOWLEDGE_BASE_DOWN) from e
            await asyncio.sleep(SIGN_IN_RETRY_S * (attempt + 1))
    return None


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
