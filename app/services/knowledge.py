"""The knowledge base's data health: errors, warnings and counts over the catalog, prices and benchmarks.

For administrators only: the counts are server-wide (people, recommendations, deployments) and the findings
name every source row."""

from __future__ import annotations

from app.datahealth import HealthReport, data_health
from app.errors import Forbidden
from app.services.context import Context


async def health_report(ctx: Context) -> HealthReport:
    if not ctx.principal.is_admin:
        raise Forbidden("only an administrator can read the data health report (it covers the whole server)")
    return await data_health(session=ctx.session, settings=ctx.settings)
