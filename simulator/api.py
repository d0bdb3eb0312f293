"""The FastAPI application: vLLM's OpenAI-compatible routes plus /metrics, /health and /version."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from simulator import __version__
from simulator.engine import Engine
from simulator.faults import FaultConfig, FaultInjector
from simulator.metrics import EngineMetrics
from simulator.profile import Profile
from simulator.protocol import ChatCompletionRequest, CompletionRequest, ModelCard, ModelList
from simulator.resolve import resolve_profile
from simulator.serving import APIError, OpenAIServing, error_response
from simulator.settings import Settings
from simulator.text import TokenCounter

logger = logging.getLogger(__name__)

# The vLLM release whose API and metrics the simulator follows.
VLLM_COMPAT_VERSION = "0.10.0"


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "invalid request", None
    first = errors[0]
    if first.get("type") == "json_invalid":
        return f"Malformed JSON body: {first.get('ctx', {}).get('error', 'cannot parse')}", None
    parts = []
    for err in errors[:5]:
        loc = [str(x) for x in err.get("loc", ()) if x != "body"]
        parts.append(f"{'.'.join(loc) or 'body'}: {err.get('msg')}")
    loc0 = [str(x) for x in first.get("loc", ()) if x != "body"]
    return "; ".join(parts), (loc0[0] if loc0 else None)


def create_app(settings: Settings | None = None, *, profile: Profile | None = None) -> FastAPI:
    """Build the app. The engine starts with the app's lifespan (uvicorn, TestClient, ...)."""
    settings = settings or Settings()
    profile = profile or resolve_profile(settings)
    metrics = EngineMetrics(
        model_name=profile.model,
        engine=settings.engine_index,
        max_model_len=profile.effective_max_model_len,
        block_size=profile.kv_cache.block_size,
        num_blocks=profile.kv_cache.num_blocks,
    )
    engine = Engine(
        profile,
        metrics=metrics,
        max_waiting=settings.max_waiting_requests,
        max_lag_s=settings.max_lag_ms / 1000.0,
    )
    faults = FaultInjector(
        FaultConfig(
            error_rate=settings.error_rate,
            error_codes=settings.error_codes,
            slow_start_s=settings.slow_start_s,
            stall_rate=settings.stall_rate,
            stall_s=settings.stall_s,
            stall_after_tokens=settings.stall_after_tokens,
            seed=settings.fault_seed,
        )
    )
    serving = OpenAIServing(
        engine=engine,
        profile=profile,
        counter=TokenCounter(settings.tokenizer),
        faults=faults,
        seed=settings.seed,
        overload_status=settings.overload_status,
    )
    created = int(time.time())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        faults.started = time.monotonic()
        engine.start()
        logger.info(
            "serving %s (profile source: %s)",
            profile.model,
            profile.source.detail if profile.source else "n/a",
        )
        try:
            yield
        finally:
            await engine.stop()

    app = FastAPI(title="Preflight vLLM simulator", version=__version__, lifespan=lifespan)
    app.state.engine = engine
    app.state.serving = serving
    app.state.profile = profile
    app.state.metrics = metrics

    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        message, param = _validation_message(exc)
        return error_response(APIError(400, message, param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        return error_response(APIError(exc.status_code, str(exc.detail)))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        logger.exception("unexpected error")
        return error_response(APIError(500, f"internal simulator error: {type(exc).__name__}: {exc}"))

    @app.post("/v1/chat/completions")
    async def chat_completions(request: ChatCompletionRequest) -> Response:
        return await serving.chat(request)

    @app.post("/v1/completions")
    async def completions(request: CompletionRequest) -> Response:
        return await serving.completion(request)

    @app.get("/v1/models")
    async def models() -> ModelList:
        card = ModelCard(
            id=profile.model,
            created=created,
            root=profile.model,
            max_model_len=profile.effective_max_model_len,
        )
        return ModelList(data=[card])

    @app.get("/health")
    async def health() -> Response:
        if not faults.ready():
            return error_response(
                APIError(503, f"the server is starting; ready in {faults.seconds_until_ready():.1f} s")
            )
        return Response(status_code=200)

    @app.get("/version")
    async def version() -> dict[str, str]:
        return {"version": VLLM_COMPAT_VERSION, "simulator": __version__}

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/sim/profile")
    async def sim_profile() -> dict[str, Any]:
        return profile.model_dump(mode="json")

    @app.get("/sim/faults")
    async def get_faults() -> FaultConfig:
        return faults.config

    @app.put("/sim/faults")
    async def put_faults(config: FaultConfig) -> FaultConfig:
        faults.configure(config)
        return faults.config

    return app
