"""The observer that runs inside `preflight up`: one Scraper, installed for the deployment hooks, sweeping
live deployments on the configured interval. The CLI and tests never start it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.observe import hooks
from app.observe.scrape import Scraper

logger = logging.getLogger(__name__)


@dataclass
class Observer:
    scraper: Scraper
    sweep: asyncio.Task[None]

    async def stop(self) -> None:
        self.sweep.cancel()
        hooks.install(None)
        await self.scraper.close()


def start_observer(engine: AsyncEngine, settings: Settings) -> Observer:
    scraper = Scraper(
        engine,
        interval_s=settings.scrape_interval_s,
        retention=timedelta(days=settings.metric_retention_days),
        prometheus_url=settings.prometheus_url,
    )
    hooks.install(scraper)
    sweep = asyncio.create_task(scraper.watch_live(), name="observe-sweep")
    logger.info("observing live deployments every %.0f s", settings.scrape_interval_s)
    return Observer(scraper, sweep)
