"""The knowledge base: its data health (errors, warnings, counts), seed load and export.

For administrators only: the counts are server-wide (people, recommendations, deployments), the findings
name every source row, and loading reads server paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from app.datahealth import HealthReport, data_health
from app.datahealth import table_counts as datahealth_table_counts
from app.errors import Forbidden, Invalid
from app.services.context import Context
from db import models as m
from seed.export import export_all
from seed.loader import SeedValidationError, load_files
from seed.reader import SeedFileError
from seed.schemas import SeedKind


async def health_report(ctx: Context) -> HealthReport:
    if not ctx.principal.is_admin:
        raise Forbidden("only an administrator can read the data health report (it covers the whole server)")
    return await data_health(session=ctx.session, settings=ctx.settings)


async def table_counts(ctx: Context) -> dict[str, int]:
    """Row counts per table (`preflight db status`): server-wide, so for administrators."""
    if not ctx.principal.is_admin:
        raise Forbidden("only an administrator can read the server's row counts")
    return await datahealth_table_counts(ctx.session)


async def export_seed(ctx: Context) -> dict[str, Any]:
    """The knowledge base as seed documents (`preflight seed export`), in the formats `seed load` reads."""
    if not ctx.principal.is_admin:
        raise Forbidden("only an administrator can export the knowledge base")
    return await export_all(session=ctx.session)


class SeedLoadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: list[Path] = Field(min_length=1, max_length=1000)
    kind: SeedKind | None = None
    replace: bool = False
    dry_run: bool = False


async def load_seed(req: SeedLoadRequest, ctx: Context) -> dict[str, dict[str, int]]:
    """Validate the files and load them in the unit of work: all rows or none (a dry run rolls back). The
    files are server paths: administrators only."""
    if not ctx.principal.is_admin:
        raise Forbidden("only an administrator can load seed data")
    conn = await ctx.session.connection()
    try:
        summary = await load_files(conn, list(req.files), kind=req.kind, replace=req.replace)
    except (SeedValidationError, SeedFileError) as e:
        raise SeedLoadError(str(e)) from e
    if req.dry_run:
        await ctx.session.rollback()
    return summary.as_dict()


class SeedLoadError(Invalid):
    """A seed file cannot be read or a row is invalid; nothing was loaded. The message names file and row."""


@dataclass(frozen=True)
class Choices:
    """What the chat's settings panel offers: GPU ids and price providers (catalog data, open to all)."""

    gpus: list[str]
    providers: list[str]


async def choices(ctx: Context) -> Choices:
    gpus = list((await ctx.session.execute(select(m.Gpu.id).order_by(m.Gpu.id))).scalars())
    providers = list(
        (await ctx.session.execute(select(m.Price.provider).distinct().order_by(m.Price.provider))).scalars()
    )
    return Choices(gpus, providers)
