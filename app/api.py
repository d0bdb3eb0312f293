"""The HTTP app: Preflight's `/api/...` routes. The chat UI (Chainlit) is mounted into this app at `/`.

Handlers are thin: they authenticate, call a service function with a session, and shape the response.
Errors become JSON with a clear message and the right status; a traceback never reaches the client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import __version__
from app.api_auth import Ctx, current_principal
from app.config import get_settings
from app.errors import (
    Invalid,
    NotFound,
    PreflightError,
    http_body,
    http_status,
    kind_for_status,
    kind_of,
    retry_after,
    validation_text,
)
from app.http_errors import UnexpectedErrors, unexpected
from app.http_limits import RequestLimits
from app.services import knowledge
from db.session import DatabaseUnavailableError, as_unavailable, check_database, dispose_engine, get_engine

if TYPE_CHECKING:
    from app.observe.background import Observer

logger = logging.getLogger(__name__)


def create_app(*, with_chat: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        reconciler: asyncio.Task[Any] | None = None
        observer: Observer | None = None
        try:
            await get_engine()
            # Deployments a stopped Preflight left in flight are resumed or failed, in the background.
            from app.deploy.service import reconcile_on_startup

            reconciler = asyncio.create_task(reconcile_on_startup(), name="deploy-reconcile")
            settings = get_settings()
            if settings.observe_in_server:
                from app.observe.background import start_observer

                observer = start_observer(await get_engine(), settings)
        except DatabaseUnavailableError as e:
            # Keep serving: /api/health reports the database as down until it comes back.
            logger.error("%s", e)
        yield
        if reconciler is not None and not reconciler.done():
            reconciler.cancel()
        if observer is not None:
            await observer.stop()
        from app.services.workers import reset_cpu_pool

        reset_cpu_pool()
        # The engine's connections belong to this event loop: close them with it, so whatever runs after the
        # server (the still-running report of `preflight up`) gets a fresh engine.
        await dispose_engine()

    api = FastAPI(title="Preflight", version=__version__, lifespan=lifespan)

    _add_error_handlers(api)
    settings = get_settings()
    api.add_middleware(RequestLimits, max_bytes=settings.max_request_bytes, max_depth=settings.max_json_depth)

    @api.get("/api/health")
    async def health() -> JSONResponse:
        """Liveness, plus whether the database answers (on the check's own connection, within a timeout)."""
        try:
            await check_database()
            db: dict[str, object] = {"ok": True}
        except Exception as e:  # any failure to reach the database is reported, not raised
            db = {"ok": False, "error": str(e).splitlines()[0][:300]}
        status = 200 if db["ok"] else 503
        return JSONResponse(
            status_code=status,
            content={"status": "ok" if db["ok"] else "degraded", "version": __version__, "database": db},
        )

    @api.get("/api/data/health")
    async def health_of_data(ctx: Ctx) -> dict[str, Any]:
        """The knowledge base's data health report (errors, warnings, counts)."""
        return (await knowledge.health_report(ctx)).model_dump()

    _include_area_routers(api)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    @api.api_route("/api/{rest:path}", methods=methods, include_in_schema=False)
    async def api_not_found(request: Request, rest: str) -> JSONResponse:
        # Without this, an unknown /api path (or method) would fall through to the chat UI mounted at `/`,
        # which answers in its own words.
        allowed = sorted(
            {
                method
                for route in api.routes
                if isinstance(route, APIRoute)
                and route.endpoint is not api_not_found
                and route.path_regex.match(request.url.path)
                for method in route.methods or ()
            }
        )
        if allowed:
            use = ", ".join(allowed)
            return JSONResponse(
                status_code=405,
                content={
                    "error": f"{request.method} is not allowed on {request.url.path}; use {use}",
                    "kind": "invalid",
                },
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(NotFound(f"no such API route: /api/{rest}"))

    if with_chat:
        _mount_chat(api)
    # Outermost, so a bug anywhere (routes, middleware, guards) is logged and answered exactly once.
    api.add_middleware(UnexpectedErrors, known=known_error_response)
    return api


def error_response(exc: BaseException) -> JSONResponse:
    """The one mapping of an error to an HTTP answer: status by kind, Retry-After where waiting helps."""
    status = http_status(exc)
    headers = {}
    seconds = retry_after(exc)
    if seconds is not None:
        headers["Retry-After"] = str(seconds)
    if kind_of(exc) == "unauthenticated":
        headers["WWW-Authenticate"] = 'Bearer realm="preflight"'
    return JSONResponse(status_code=status, content=http_body(exc), headers=headers)


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(PreflightError)
    async def _kind(_: Request, exc: PreflightError) -> JSONResponse:
        return error_response(exc)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Names the field and the bound; never echoes the input back (it may be megabytes).
        return JSONResponse(status_code=422, content=http_body(Invalid(validation_text(exc, 10))))

    @api.exception_handler(ValidationError)
    async def _invalid_model(_: Request, exc: ValidationError) -> JSONResponse:
        return error_response(exc)

    @api.exception_handler(StarletteHTTPException)
    async def _bare_status(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Statuses raised by the framework itself (a body that is not UTF-8 JSON, a method the route does not
        # take) get the one error body too, not Starlette's {"detail": ...}.
        if exc.status_code == 400:  # the body could not be parsed: invalid input, like malformed JSON
            return error_response(Invalid(f"the request body could not be read as JSON: {exc.detail}"))
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": str(exc.detail), "kind": kind_for_status(exc.status_code)},
            headers=exc.headers,
        )

    async def _driver(request: Request, exc: Exception) -> JSONResponse:
        # Driver errors are answered here, in the routing layer, so the server does not also re-raise them
        # (Starlette re-raises whatever reaches the catch-all handler, and the ASGI server then logs a
        # traceback). A known outage is one warning line; anything else one traceback.
        down = as_unavailable(exc)
        if down is None:
            return unexpected(request.method, request.url.path, exc)
        logger.warning("%s %s: %s", request.method, request.url.path, down)
        return error_response(down)

    for driver_error in (DBAPIError, PoolTimeoutError, ConnectionError):
        api.add_exception_handler(driver_error, _driver)
    # Anything else without a kind is a bug: answered by the outermost middleware, UnexpectedErrors
    # (added last in create_app), which logs it once. A Starlette `Exception` handler would log it twice.


def known_error_response(exc: BaseException) -> JSONResponse | None:
    """The answer to an error with a meaning that reached the outermost layer (an outage: 503), or None."""
    if kind_of(exc) is not None:
        return error_response(exc)
    down = as_unavailable(exc)
    return error_response(down) if down is not None else None


def _include_area_routers(api: FastAPI) -> None:
    from app.chat.routes import router as chat_router
    from app.deploy.routes import router as deploy_router
    from app.observe.routes import router as observe_router
    from app.people_routes import router as people_router
    from app.planning.routes import router as planning_router

    for router in (planning_router, deploy_router, observe_router, chat_router, people_router):
        # Every area route needs an API token; routes that need the caller take `CurrentPrincipal` too.
        api.include_router(router, dependencies=[Depends(current_principal)])


def _mount_chat(api: FastAPI) -> None:
    from app.chat.login_guard import SignInGuard
    from app.chat.mount import mount_chat
    from app.chat.thread_guard import ThreadGuard

    mount_chat(api)
    api.add_middleware(SignInGuard)
    api.add_middleware(ThreadGuard)
