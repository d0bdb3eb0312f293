"""Deployment test helpers: a stored recommendation to deploy, a deployment's row, and clean-up."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.auth import Principal
from app.deploy.targets.local import LocalRuntime
from db import models as m


async def stop_leftovers(eng: AsyncEngine) -> None:
    """Local processes outlive their deployer by design: stop any a failed test left running."""
    from app.deploy.targets.local import stop_process

    async with async_sessionmaker(eng)() as s:
        runtimes = (await s.execute(select(m.Deployment.runtime))).scalars().all()
    for runtime in runtimes:
        if (runtime or {}).get("kind") == "local" and "plan_hash" in runtime:
            for rec in LocalRuntime.model_validate(runtime).processes:
                await stop_process(rec)


async def recommendation_for(engine: AsyncEngine, who: Principal | None = None) -> str:
    """A stored recommendation made by the recommender itself; its id."""
    from app.services.planner import recommend
    from app.services.specify import spec_from_text

    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        spec = await spec_from_text("an internal chatbot for 50 concurrent users", session=s)
    # Generous latency targets: these tests are about deploying an option, not about which one wins.
    spec = spec.model_copy(
        update={
            "target_ttft_p90_ms": 2000.0,
            "target_tpot_p90_ms": 100.0,
            "target_e2e_latency_p95_ms": 60000.0,
        }
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        result = await recommend(spec, session=s, principal=who)
        await s.commit()
    assert result.options, result.message
    assert result.recommendation_id is not None
    return result.recommendation_id


async def deployment_row(engine: AsyncEngine, dep_id: str) -> m.Deployment:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        dep = await s.get(m.Deployment, uuid.UUID(dep_id))
        assert dep is not None
        return dep
