"""Turn any failure in a chat turn into a short message that says what happened and what to do next."""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

from app.chat.planner import PlannerUnavailableError
from app.chat.store import NotFoundError
from app.intent.usecases import TemplateNotFound
from db.session import DatabaseUnavailableError


def _validation_text(e: ValidationError) -> str:
    parts = []
    for err in e.errors()[:3]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "__root__") or "value"
        parts.append(f"**{where.replace('_', ' ')}**: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def explain(e: BaseException) -> str:
    """A person-facing message for ``e``; never a traceback."""
    if isinstance(e, ValidationError):
        return (
            f"⚠️ That value is out of range: {_validation_text(e)}. Nothing was changed; "
            "try again with a value inside the limits."
        )
    if isinstance(e, DatabaseUnavailableError):
        return (
            "⚠️ I can't reach the database right now, so I could not finish that. Your conversation is "
            "safe; wait a moment and send the message again. If it keeps happening, check `preflight status`."
        )
    if isinstance(e, PlannerUnavailableError):
        return f"⚠️ I can't plan this yet: {e}. The specification above is still yours to edit."
    if isinstance(e, NotFoundError | LookupError):
        return f"⚠️ {str(e).capitalize()}. It may belong to someone else or have been deleted."
    if isinstance(e, TemplateNotFound):
        return f"⚠️ {e}. An administrator needs to seed the knowledge base."
    if isinstance(e, asyncio.TimeoutError | TimeoutError):
        return "⚠️ That took too long and was stopped. Try again; shorter or simpler requests plan faster."
    if isinstance(e, ValueError):
        return f"⚠️ {e}. Nothing was changed."
    return (
        "⚠️ Something went wrong on my side and I could not finish that. Nothing you entered was lost; "
        "please try again. If it keeps happening, an administrator can find the details in the server log."
    )
