"""Scrape deployments' vLLM metrics into Postgres (`preflight observe scrape`).

Named deployments must be the caller's own (admins: any); watching every live deployment, and querying a
Prometheus instead of the endpoints, are for administrators (a Prometheus URL is a server-side setting, not
something a person points the server at). The scraper keeps its own connections (advisory locks), so it
takes the engine, not the unit of work's session.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from app.errors import Forbidden, Invalid
from app.observe.scrape import ScrapeError, Scraper
from app.services.bounds import Name, Text
from app.services.context import Context
from app.services.observation import owned_deployment
from db.session import get_engine


class ScrapeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployment_ids: list[Name] = Field(default_factory=list, max_length=1000)
    interval_s: float = Field(default=10.0, ge=1.0, le=86_400.0)
    retention_days: float = Field(default=7.0, gt=0, le=3650.0)
    prometheus_url: Text | None = None
    once: bool = False


class ScrapeLine(BaseModel):
    deployment_id: str
    target: str
    ok: bool
    error: str | None = None


async def scrape(req: ScrapeRequest, ctx: Context, report: Callable[[ScrapeLine], None]) -> None:
    """Scrape once (``once``) or keep watching until cancelled; each one-off result goes to ``report``."""
    if req.prometheus_url is not None and not ctx.principal.is_admin:
        raise Forbidden("only an administrator can scrape through a Prometheus (it is a server setting)")
    if not req.deployment_ids and not ctx.principal.is_admin:
        raise Forbidden("only an administrator can watch every deployment; name your deployments")
    if req.once and not req.deployment_ids:
        raise Invalid("--once needs deployment ids")
    ids = [uuid.UUID(str((await owned_deployment(d, ctx)).id)) for d in req.deployment_ids]
    # The checks are done: end the transaction, so a long watch does not hold a pooled connection idle.
    await ctx.session.commit()
    scraper = Scraper(
        await get_engine(),
        interval_s=req.interval_s,
        retention=timedelta(days=req.retention_days),
        prometheus_url=req.prometheus_url,
    )
    try:
        if req.once:
            for dep_id in ids:
                for r in await scraper.run_once(dep_id):
                    report(ScrapeLine(deployment_id=str(dep_id), target=r.target, ok=r.ok, error=r.error))
        elif ids:
            await asyncio.gather(*(scraper.watch(d) for d in ids))
        else:
            await scraper.watch_live()
    except ScrapeError as e:
        raise Invalid(str(e)) from e
    finally:
        await scraper.close()
