"""The chat's calls into the service layer, free of Chainlit: understand a message, specify it, plan it.

The handlers route Chainlit events to these functions and render what they return. Understanding,
specifying and recommending are the same service functions the API and CLI call (``app.services``); this
module only opens the unit of work for the person acting.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from app.auth import Principal
from app.errors import Unavailable
from app.intent.clarify import ClarifyingQuestion, apply_answer
from app.intent.clarify import clarifying_questions as clarifying_questions
from app.intent.schema import DeploymentIntent, Specification
from app.planning.result import RecommendationResult
from app.services import knowledge, recommendations, scenario_views
from app.services import specify as specifying
from app.services.context import unit_of_work
from app.services.specify import Understanding

PLAN_TIMEOUT_S = 60.0
# Who acts before anyone is known (sign-in, resolving the signed-in name).
ANONYMOUS = Principal(None, "anonymous", False)


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
    async with unit_of_work(principal) as ctx:
        return await recommendations.get_recommendation(rec_id, ctx)


async def save_scenario(
    name: str, *, recommendation_id: str, rank: int, principal: Principal
) -> scenario_views.SavedScenario:
    """Save option ``rank`` of a stored recommendation through the scenario service, under a free name."""
    from app.services import scenarios as scenario_service

    async with unit_of_work(principal) as ctx:
        taken = {s.name for s in await scenario_views.list_saved(ctx, mine_only=True)}
        final, n = name, 2
        while final in taken:
            final, n = f"{name} ({n})", n + 1
        req = scenario_service.SaveScenarioRequest(
            name=final, recommendation_id=recommendation_id, option_rank=rank
        )
        view = await scenario_service.save(req, ctx)
        return await scenario_views.get_saved(view.id, ctx)


async def scenarios(ids: list[int], *, principal: Principal) -> list[scenario_views.SavedScenario]:
    async with unit_of_work(principal) as ctx:
        found = await scenario_views.list_saved(ctx, ids=ids)
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

    try:
        req = people.SignInRequest(name=name, password=password, client_ip=client_ip)
    except ValidationError:
        return None
    for attempt in range(SIGN_IN_ATTEMPTS):
        try:
            async with unit_of_work(ANONYMOUS) as ctx:
                return await people.sign_in(req, ctx)
        except Unavailable as e:
            if attempt + 1 == SIGN_IN_ATTEMPTS:
                raise HTTPException(status_code=503, detail=KNOWLEDGE_BASE_DOWN) from e
            await asyncio.sleep(SIGN_IN_RETRY_S * (attempt + 1))
    return None


async def principal_for(name: str) -> Principal | None:
    """The signed-in person (Chainlit authenticated the name) with their current role; None if removed or
    disabled since."""
    from app.services import people

    async with unit_of_work(ANONYMOUS) as ctx:
        return await people.signed_in(name, ctx)


@lru_cache(maxsize=1)
def _choices_cache() -> dict[str, Any]:
    return {}


async def choices(principal: Principal) -> knowledge.Choices:
    """GPU ids and price providers for the settings panel (catalog data; read once per process)."""
    cache = _choices_cache()
    if "value" not in cache:
        async with unit_of_work(principal) as ctx:
            cache["value"] = await knowledge.choices(ctx)
    value: knowledge.Choices = cache["value"]
    return value


def spec_from_state(data: dict[str, Any] | None) -> Specification | None:
    return Specification.model_validate(data) if data else None
