"""The knowledge base's data health: errors, warnings and counts over the catalog, prices and benchmarks."""

from __future__ import annotations

from app.datahealth import HealthReport, data_health
from app.services.context import Context


async def health_report(ctx: Context) -> HealthReport:
    return await data_health(session=ctx.session, settings=ctx.settings)
