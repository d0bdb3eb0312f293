"""Signals from the deployment engine (app/deploy/service.py calls these through ``observe_hook``).

The process that serves Preflight owns one :class:`~app.observe.scrape.Scraper` and registers it with
:func:`install`; a deployment that becomes ready is then watched at once, and one that goes away is no
longer scraped. Without an installed scraper (the CLI, tests) the signals are no-ops: a scraper running
elsewhere finds new deployments through its own sweep (``Scraper.watch_live``). The hooks are synchronous
because the engine calls them synchronously; they only schedule work on the running event loop.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from app.observe.scrape import Scraper

logger = logging.getLogger(__name__)
_scraper: Scraper | None = None
_pending: set[asyncio.Task[None]] = set()


def install(scraper: Scraper | None) -> None:
    """Make ``scraper`` the one the hooks drive (None uninstalls it)."""
    global _scraper
    _scraper = scraper


def deployment_ready(deployment_id: uuid.UUID) -> None:
    if _scraper is None:
        logger.debug("deployment %s ready; no scraper in this process, the sweep will find it", deployment_id)
        return
    _scraper.watch(deployment_id)


def deployment_removed(deployment_id: uuid.UUID) -> None:
    if _scraper is None:
        return
    try:
        task = asyncio.get_running_loop().create_task(_scraper.unwatch(deployment_id))
    except RuntimeError:  # no running loop: nothing of ours can be running either
        return
    _pending.add(task)
    task.add_done_callback(_pending.discard)
