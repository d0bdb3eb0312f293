"""Smoke test of an OpenAI-compatible endpoint: one streamed chat completion, timed.

TTFT is measured from sending the request to the first SSE chunk that carries content; ITL is the gap
between later content chunks (vLLM and the simulator stream one token per chunk). The result is kept with
the deployment and ends the deploy progress stream; `preflight test ENDPOINT` runs the same check.
"""

from __future__ import annotations

import itertools
import json
import logging
import statistics
import time
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

DEFAULT_PROMPT = "Say hello and name three colours."


class SmokeTestResult(BaseModel):
    """One streamed completion through the endpoint."""

    ok: bool
    endpoint: str
    model: str | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    ttft_ms: float | None = Field(None, description="request sent -> first content chunk")
    itl_ms_mean: float | None = Field(None, description="mean gap between later content chunks")
    itl_ms_p50: float | None = None
    itl_ms_max: float | None = None
    e2e_ms: float | None = None
    chunks: int = Field(0, description="content chunks received (one token each on vLLM)")
    completion_tokens: int | None = Field(None, description="usage.completion_tokens, when sent")
    finish_reason: str | None = None
    text: str = Field("", description="the reply, truncated to 500 characters")
    error: str | None = None


def base_url(endpoint: str) -> str:
    """Accept `http://host:port`, `.../v1` or `.../v1/` and return the URL without `/v1`."""
    return endpoint.rstrip("/").removesuffix("/v1")


async def _served_model(client: httpx.AsyncClient, root: str) -> str:
    resp = await client.get(f"{root}/v1/models")
    resp.raise_for_status()
    data = resp.json().get("data") or []
    if not data:
        raise ValueError("the endpoint serves no model (/v1/models is empty)")
    return str(data[0]["id"])


async def smoke_test(
    endpoint: str,
    *,
    model: str | None = None,
    prompt: str = DEFAULT_PROMPT,
    max_tokens: int = 32,
    timeout_s: float = 60.0,
    api_key: str | None = None,
) -> SmokeTestResult:
    """Stream one chat completion; never raises for an endpoint problem (the result says what failed)."""
    root = base_url(endpoint)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    result = SmokeTestResult(ok=False, endpoint=root, model=model)
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), headers=headers) as client:
            if model is None:
                model = await _served_model(client, root)
                result.model = model
            body = {
                "model": model,
                "messages": [{"role": "user", "content": prompt}],
                "max_tokens": max_tokens,
                "temperature": 0,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
            times: list[float] = []
            parts: list[str] = []
            start = time.perf_counter()
            async with client.stream("POST", f"{root}/v1/chat/completions", json=body) as resp:
                if resp.status_code != 200:
                    detail = (await resp.aread()).decode("utf-8", "replace")[:500]
                    result.error = f"HTTP {resp.status_code}: {detail}"
                    return result
                async for line in resp.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    chunk = json.loads(payload)
                    if chunk.get("usage"):
                        result.completion_tokens = chunk["usage"].get("completion_tokens")
                    for choice in chunk.get("choices") or []:
                        content = (choice.get("delta") or {}).get("content")
                        if content:
                            times.append(time.perf_counter())
                            parts.append(content)
                        if choice.get("finish_reason"):
                            result.finish_reason = choice["finish_reason"]
            end = time.perf_counter()
    except (httpx.HTTPError, ValueError, KeyError, OSError) as e:
        result.error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        return result
    result.chunks = len(times)
    result.text = "".join(parts)[:500]
    result.e2e_ms = round((end - start) * 1000, 2)
    if not times:
        result.error = "the stream ended without any content"
        return result
    result.ttft_ms = round((times[0] - start) * 1000, 2)
    gaps = [(b - a) * 1000 for a, b in itertools.pairwise(times)]
    if gaps:
        result.itl_ms_mean = round(statistics.fmean(gaps), 2)
        result.itl_ms_p50 = round(statistics.median(gaps), 2)
        result.itl_ms_max = round(max(gaps), 2)
    result.ok = True
    log.info("smoke test of %s: TTFT %.1f ms, %d chunks", root, result.ttft_ms, result.chunks)
    return result
