"""How the chat reaches the recommender: ``app.planning.recommend.recommend`` once it exists.

The recommender is built by another area; this adapter calls its public entry point with the keyword
arguments it accepts (``session``, ``principal``, ``owner_id``, ``input_text``) and validates what comes
back as a :class:`RecommendationResult`. Tests and benchmarks that run before the recommender lands can
install a planner with :func:`set_planner` (in the server process, through a uvicorn app factory).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.intent.schema import Specification
from app.planning.result import RecommendationResult

Planner = Callable[..., Awaitable[RecommendationResult] | RecommendationResult]

_RECOMMENDER_MODULE = "app.planning.recommend"
_RECOMMENDER_FUNCTION = "recommend"
_installed: Planner | None = None


class PlannerUnavailableError(RuntimeError):
    """No recommender can be called; the message says what is missing."""


def set_planner(planner: Planner | None) -> None:
    """Use ``planner(spec, *, session, principal)`` instead of the recommender (None restores it)."""
    global _installed
    _installed = planner


def _recommender() -> Planner:
    if _installed is not None:
        return _installed
    try:
        module = importlib.import_module(_RECOMMENDER_MODULE)
    except ModuleNotFoundError as e:
        if e.name and _RECOMMENDER_MODULE.startswith(e.name):
            raise PlannerUnavailableError(
                "the recommendation engine is not installed in this build (app/planning/recommend.py is "
                "missing), so I can show the specification but not yet plan it"
            ) from e
        raise
    function = getattr(module, _RECOMMENDER_FUNCTION, None)
    if not callable(function):
        raise PlannerUnavailableError(f"{_RECOMMENDER_MODULE} has no callable {_RECOMMENDER_FUNCTION}()")
    return function


def recommender_available() -> bool:
    try:
        _recommender()
    except PlannerUnavailableError:
        return False
    return True


async def plan(
    spec: Specification, *, session: AsyncSession, principal: Principal, input_text: str | None = None
) -> RecommendationResult:
    """Plan ``spec`` with the recommender, passing only the keyword arguments it declares."""
    function = _recommender()
    offered: dict[str, Any] = {
        "session": session,
        "principal": principal,
        "owner_id": principal.id,
        "input_text": input_text,
    }
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):  # builtins and some callables have no signature; pass the session only
        parameters = {}  # type: ignore[assignment]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    kwargs = {k: v for k, v in offered.items() if takes_any or k in parameters}
    result = function(spec, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, RecommendationResult):
        return result
    if hasattr(result, "model_dump"):  # a pydantic model of the same shape from another module
        result = result.model_dump(mode="json")
    return RecommendationResult.model_validate(result)
