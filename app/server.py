"""`preflight up`: prepare the database, then serve the app with uvicorn until Ctrl-C."""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)


def serve(host: str, port: int) -> None:
    import uvicorn

    from app.api import create_app
    from db.session import dispose_engine, get_engine

    # Prepare (start, migrate, seed) before binding, so the first page load is not the one that waits.
    async def prepare() -> None:
        await get_engine()
        await dispose_engine()

    asyncio.run(prepare())
    logger.warning("Preflight is up at http://%s:%d", host, port)
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
