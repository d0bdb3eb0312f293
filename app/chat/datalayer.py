"""Chainlit's SQLAlchemy data layer on Preflight's own Postgres, in schema ``chainlit``.

Chainlit writes unqualified table names (users, threads, steps, ...); ``users`` would collide with
Preflight's table, so its connections use ``search_path = chainlit`` (tables from migration 0002).
Elements (plots, files) are not kept without object storage: resume re-renders them from the stored
recommendation and scenarios instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer

from app.services.threads import CHAINLIT_SCHEMA
from db.session import resolve_url


def data_layer_args(url: str) -> tuple[str, dict[str, Any]]:
    """(URL without query, asyncpg connect_args) for a Preflight asyncpg URL."""
    base, _, query = url.partition("?")
    connect_args: dict[str, Any] = {"server_settings": {"search_path": CHAINLIT_SCHEMA}}
    params = parse_qs(query)
    if "host" in params:  # a unix socket directory (the embedded server)
        connect_args["host"] = params["host"][0]
    return base, connect_args


def make_data_layer(url: str | None = None) -> SQLAlchemyDataLayer:
    base, connect_args = data_layer_args(url or resolve_url())
    return SQLAlchemyDataLayer(conninfo=base, connect_args=connect_args, user_thread_limit=200)
