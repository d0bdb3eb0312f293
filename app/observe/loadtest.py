"""A streaming load generator for OpenAI-compatible servers (vLLM, the simulator), shaped like a spec.

Profiles, as GuideLLM names them:
- ``constant``: requests sent at a fixed rate, evenly spaced;
- ``poisson``: requests sent at a rate with exponential gaps (seeded);
- ``concurrency``: N clients in a closed loop, each sends its next request when the previous one ends;
- ``sweep``: a synchronous run (one client) and a throughput run (many clients) find the range of rates
  the server sustains, then constant-rate runs at evenly spaced rates in between.

Each request goes to ``/v1/completions`` with a prompt of token ids (exactly ``prompt_tokens`` long on any
vLLM-compatible server), ``max_tokens`` = the output length and ``ignore_eos`` so it produces exactly that
many tokens, streamed. Per request: TTFT (send to first token), E2E (send to last token), TPOT = (E2E -
TTFT) / (tokens - 1), and every gap between streamed tokens, pooled into the ITL distribution (the
definitions of vLLM's benchmark_serving and inference-perf; GuideLLM's "inter-token latency" is this TPOT).
Throughput is output tokens per second over the measured span; *goodput* is the share of requests that
completed and met every latency SLO (TTFT, TPOT/ITL, E2E per request), also given in requests per second.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.errors import Invalid, Unavailable
from app.observe.metrics import Percentiles
from app.observe.slo import Slo, SloStatus, compliance_from_values, percentile

logger = logging.getLogger(__name__)

ProfileName = Literal["constant", "poisson", "concurrency", "sweep"]


class LoadTestError(Invalid, ValueError):
    """The load test cannot run (bad settings); the message says what to fix."""


class LoadTargetUnreachableError(Unavailable, LoadTestError):
    """The endpoint did not answer as a model server."""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoadTestConfig(_M):
    endpoint: str = Field(description="Base URL of the server, e.g. http://127.0.0.1:8000")
    model: str | None = Field(default=None, description="Served model name; default: the first of /v1/models")
    profile: ProfileName = "concurrency"
    rate: float | None = Field(default=None, gt=0, description="Requests per second (constant, poisson)")
    concurrency: int | None = Field(default=None, gt=0, description="Concurrent clients (concurrency)")
    duration_s: float = Field(default=30.0, gt=0, description="How long requests are sent, per run")
    max_requests: int | None = Field(default=None, gt=0, description="Stop sending after this many")
    warmup_s: float = Field(default=0.0, ge=0, description="Requests sent before this are not measured")
    prompt_tokens: int = Field(default=512, gt=0)
    output_tokens: int = Field(default=128, gt=0)
    length_cv: float = Field(default=0.0, ge=0, description="Spread of prompt and output lengths (uniform)")
    slos: list[Slo] = Field(default_factory=list, description="Per-request thresholds for goodput")
    sweep_points: int = Field(default=5, ge=3, le=20, description="Runs in a sweep, with the two probes")
    sweep_max_concurrency: int = Field(
        default=64, gt=0, description="Clients of the sweep's throughput probe"
    )
    request_timeout_s: float = Field(default=300.0, gt=0)
    seed: int = 0

    @model_validator(mode="after")
    def _load_given(self) -> LoadTestConfig:
        if self.profile in ("constant", "poisson") and self.rate is None:
            raise LoadTestError(f"the {self.profile} profile needs --rate (requests per second)")
        if self.profile == "concurrency" and self.concurrency is None:
            raise LoadTestError("the concurrency profile needs --concurrency (number of clients)")
        return self


@dataclass
class RequestRecord:
    sent: float
    prompt_tokens: int
    first_token: float | None = None
    end: float | None = None
    output_tokens: int = 0
    gaps: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.end is not None and self.output_tokens > 0

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_token is None else self.first_token - self.sent

    @property
    def e2e_s(self) -> float | None:
        return None if self.end is None else self.end - self.sent

    @property
    def tpot_s(self) -> float | None:
        if self.first_token is None or self.end is None or self.output_tokens < 2:
            return None
        return (self.end - self.first_token) / (self.output_tokens - 1)


class LoadTestReport(_M):
    profile: ProfileName
    rate: float | None = None
    concurrency: int | None = None
    model: str
    endpoint: str
    duration_s: float = Field(description="Measured span: first send to last completion")
    requests: int = Field(description="Requests measured (sent after warm-up)")
    completed: int
    errors: int
    error_rate: float
    error_samples: list[str] = Field(default_factory=list)
    prompt_tokens_avg: float
    output_tokens_avg: float
    ttft_ms: Percentiles
    itl_ms: Percentiles
    tpot_ms: Percentiles
    e2e_ms: Percentiles
    requests_per_s: float
    output_tokens_per_s: float
    total_tokens_per_s: float
    concurrency_mean: float = Field(description="Requests in flight, on average over the span")
    goodput: float | None = Field(default=None, description="Share of requests meeting every SLO")
    goodput_rps: float | None = None
    slo_compliance: list[SloStatus] = Field(default_factory=list)


class SweepReport(_M):
    profile: Literal["sweep"] = "sweep"
    runs: list[LoadTestReport]


@dataclass
class Progress:
    label: str
    elapsed_s: float
    duration_s: float
    sent: int
    completed: int
    errors: int


ProgressFn = Callable[[Progress], None]


def _stats_ms(values_s: Sequence[float]) -> Percentiles:
    xs = sorted(v * 1e3 for v in values_s)
    if not xs:
        return Percentiles()
    return Percentiles(
        count=len(xs),
        mean=round(sum(xs) / len(xs), 3),
        p50=round(percentile(xs, 0.5), 3),
        p90=round(percentile(xs, 0.9), 3),
        p95=round(percentile(xs, 0.95), 3),
        p99=round(percentile(xs, 0.99), 3),
    )


def _good(r: RequestRecord, slos: Sequence[Slo]) -> bool:
    if not r.ok:
        return False
    for slo in slos:
        value = {"ttft": r.ttft_s, "tpot": r.tpot_s, "itl": r.tpot_s, "e2e": r.e2e_s}.get(slo.sli)
        if slo.sli == "error_rate":
            continue
        if value is not None and value * 1e3 > slo.target:
            return False
    return True


def summarize(
    records: Sequence[RequestRecord],
    cfg: LoadTestConfig,
    model: str,
    *,
    rate: float | None,
    conc: int | None,
    profile: ProfileName,
) -> LoadTestReport:
    """Turn per-request records into the report (pure)."""
    if not records:
        raise LoadTestError("no request was measured; lengthen --duration or shorten --warmup")
    ok = [r for r in records if r.ok]
    errors = [r for r in records if not r.ok]
    start = min(r.sent for r in records)
    end = max([r.end for r in records if r.end is not None] or [start])
    span = max(end - start, 1e-9)
    out_tokens = sum(r.output_tokens for r in ok)
    in_tokens = sum(r.prompt_tokens for r in ok)
    busy = sum((r.end or r.sent) - r.sent for r in records)
    values_ms = {
        "ttft": [r.ttft_s * 1e3 for r in ok if r.ttft_s is not None],
        "tpot": [r.tpot_s * 1e3 for r in ok if r.tpot_s is not None],
        "itl": [g * 1e3 for r in ok for g in r.gaps],
        "e2e": [r.e2e_s * 1e3 for r in ok if r.e2e_s is not None],
    }
    latency_slos = [s for s in cfg.slos if s.sli != "error_rate"]
    good = sum(1 for r in records if _good(r, latency_slos)) if cfg.slos else None
    return LoadTestReport(
        profile=profile,
        rate=rate,
        concurrency=conc,
        model=model,
        endpoint=cfg.endpoint,
        duration_s=round(span, 3),
        requests=len(records),
        completed=len(ok),
        errors=len(errors),
        error_rate=len(errors) / len(records),
        error_samples=sorted({str(r.error) for r in errors if r.error})[:5],
        prompt_tokens_avg=in_tokens / len(ok) if ok else 0.0,
        output_tokens_avg=out_tokens / len(ok) if ok else 0.0,
        ttft_ms=_stats_ms([r.ttft_s for r in ok if r.ttft_s is not None]),
        itl_ms=_stats_ms([g for r in ok for g in r.gaps]),
        tpot_ms=_stats_ms([r.tpot_s for r in ok if r.tpot_s is not None]),
        e2e_ms=_stats_ms([r.e2e_s for r in ok if r.e2e_s is not None]),
        requests_per_s=len(ok) / span,
        output_tokens_per_s=out_tokens / span,
        total_tokens_per_s=(out_tokens + in_tokens) / span,
        concurrency_mean=busy / span,
        goodput=None if good is None else good / len(records),
        goodput_rps=None if good is None else good / span,
        slo_compliance=compliance_from_values(values_ms, cfg.slos, errors=len(errors), requests=len(records))
        if cfg.slos
        else [],
    )


class _Runner:
    def __init__(self, cfg: LoadTestConfig, model: str, session: Any, progress: ProgressFn | None) -> None:
        self.cfg = cfg
        self.model = model
        self.session = session
        self.progress = progress
        self.rng = random.Random(cfg.seed)
        self.url = cfg.endpoint.rstrip("/").removesuffix("/v1") + "/v1/completions"

    def _length(self, mean: int) -> int:
        if self.cfg.length_cv <= 0:
            return mean
        half = mean * self.cfg.length_cv * math.sqrt(3.0)
        return max(1, round(self.rng.uniform(mean - half, mean + half)))

    async def one(self, rec: RequestRecord, output_tokens: int) -> None:
        import aiohttp

        # Token ids well inside every common vocabulary; random so prefix caching does not flatter TTFT.
        prompt = [self.rng.randrange(1000, 30000) for _ in range(rec.prompt_tokens)]
        body = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": output_tokens,
            "ignore_eos": True,
            "temperature": 0.0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        rec.sent = time.perf_counter()
        last: float | None = None
        usage_tokens: int | None = None
        chunks = 0
        done = False
        try:
            async with self.session.post(self.url, json=body) as resp:
                if resp.status != 200:
                    text = (await resp.text())[:200]
                    rec.error = f"HTTP {resp.status}: {text}"
                    rec.end = time.perf_counter()
                    return
                async for raw in resp.content:
                    line = raw.strip()
                    if not line.startswith(b"data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == b"[DONE]":
                        done = True
                        break
                    now = time.perf_counter()
                    data = json.loads(payload)
                    if data.get("usage"):
                        usage_tokens = int(data["usage"].get("completion_tokens") or 0) or usage_tokens
                    choices = data.get("choices") or []
                    if not choices or not (choices[0].get("text") or choices[0].get("finish_reason") is None):
                        continue
                    chunks += 1
                    if rec.first_token is None:
                        rec.first_token = now
                    elif last is not None:
                        rec.gaps.append(now - last)
                    last = now
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            rec.error = f"{type(e).__name__}: {e}"
            rec.end = time.perf_counter()
            return
        rec.end = last if last is not None else time.perf_counter()
        rec.output_tokens = usage_tokens or chunks
        if not done:
            rec.error = "the stream ended without [DONE]"

    async def run(
        self, profile: ProfileName, *, rate: float | None, conc: int | None, label: str
    ) -> list[RequestRecord]:
        cfg = self.cfg
        records: list[RequestRecord] = []
        tasks: list[asyncio.Task[None]] = []
        t0 = time.perf_counter()
        deadline = t0 + cfg.duration_s
        sent = 0

        def new_record() -> tuple[RequestRecord, int]:
            rec = RequestRecord(sent=time.perf_counter(), prompt_tokens=self._length(cfg.prompt_tokens))
            records.append(rec)
            return rec, self._length(cfg.output_tokens)

        def more() -> bool:
            return time.perf_counter() < deadline and (cfg.max_requests is None or sent < cfg.max_requests)

        async def report_progress() -> None:
            while True:
                if self.progress:
                    self.progress(
                        Progress(
                            label=label,
                            elapsed_s=min(time.perf_counter() - t0, cfg.duration_s),
                            duration_s=cfg.duration_s,
                            sent=len(records),
                            completed=sum(1 for r in records if r.end is not None),
                            errors=sum(1 for r in records if r.error),
                        )
                    )
                await asyncio.sleep(0.25)

        reporter = asyncio.create_task(report_progress())
        try:
            if profile == "concurrency":
                assert conc is not None

                async def client() -> None:
                    nonlocal sent
                    while more():
                        sent += 1
                        rec, out = new_record()
                        await self.one(rec, out)

                await asyncio.gather(*(client() for _ in range(conc)))
            else:
                assert rate is not None
                next_at = t0
                while more():
                    now = time.perf_counter()
                    if next_at > now:
                        await asyncio.sleep(next_at - now)
                        if not more():
                            break
                    sent += 1
                    rec, out = new_record()
                    tasks.append(asyncio.create_task(self.one(rec, out)))
                    gap = 1.0 / rate if profile == "constant" else self.rng.expovariate(rate)
                    next_at += gap
                if tasks:
                    await asyncio.wait(tasks, timeout=cfg.request_timeout_s)
                for t in tasks:
                    if not t.done():
                        t.cancel()
        finally:
            reporter.cancel()
        if self.progress:
            self.progress(
                Progress(
                    label,
                    cfg.duration_s,
                    cfg.duration_s,
                    len(records),
                    len(records),
                    sum(1 for r in records if r.error),
                )
            )
        for r in records:
            if r.end is None:
                r.error = r.error or f"no answer within {cfg.request_timeout_s:g} s"
        warm = t0 + cfg.warmup_s
        return [r for r in records if r.sent >= warm]


async def discover_model(session: Any, endpoint: str) -> str:
    import aiohttp

    url = endpoint.rstrip("/").removesuffix("/v1") + "/v1/models"
    not_openai = (
        f"{endpoint} answered, but it is not an OpenAI-compatible streaming server ({url} {{what}}): "
        "point at the base URL of a vLLM or other OpenAI-compatible server"
    )
    try:
        async with session.get(url) as resp:
            if resp.status != 200:
                raise LoadTargetUnreachableError(f"{url} answered HTTP {resp.status}; pass --model")
            try:
                data = await resp.json()
            except (aiohttp.ContentTypeError, ValueError) as e:
                # Something serves this address (a web page, another app), just not a model server.
                kind = resp.headers.get("content-type", "no content type").split(";")[0]
                raise LoadTestError(not_openai.format(what=f"returned {kind}, not a JSON model list")) from e
    except aiohttp.ClientError as e:
        raise LoadTargetUnreachableError(f"cannot reach {url}: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise LoadTestError(not_openai.format(what="returned JSON without a 'data' list of models"))
    models = [m.get("id") for m in data["data"] if isinstance(m, dict) and m.get("id")]
    if not models:
        raise LoadTestError(f"{url} lists no model; pass --model")
    return str(models[0])


async def run_loadtest(
    cfg: LoadTestConfig, *, progress: ProgressFn | None = None
) -> LoadTestReport | SweepReport:
    """Run the configured profile and return its report (a sweep returns one report per run)."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=cfg.request_timeout_s, sock_connect=10)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        model = cfg.model or await discover_model(session, cfg.endpoint)
        runner = _Runner(cfg, model, session, progress)

        async def single(
            profile: ProfileName, rate: float | None, conc: int | None, label: str
        ) -> LoadTestReport:
            recs = await runner.run(profile, rate=rate, conc=conc, label=label)
            return summarize(recs, cfg, model, rate=rate, conc=conc, profile=profile)

        if cfg.profile != "sweep":
            return await single(cfg.profile, cfg.rate, cfg.concurrency, cfg.profile)
        sync = await single("concurrency", None, 1, "sweep: synchronous")
        peak = await single("concurrency", None, cfg.sweep_max_concurrency, "sweep: throughput")
        if sync.completed == 0 or peak.completed == 0:
            raise LoadTestError("the sweep's probes completed no request; check the endpoint and --duration")
        lo, hi = sync.requests_per_s, max(peak.requests_per_s, sync.requests_per_s * 1.01)
        runs = [sync]
        n = cfg.sweep_points - 2
        for i in range(1, n + 1):
            rate = lo + (hi - lo) * i / (n + 1)
            runs.append(await single("constant", round(rate, 4), None, f"sweep: {rate:.2f} req/s"))
        runs.append(peak)
        return SweepReport(runs=runs)


def slos_from_pairs(pairs: Sequence[str]) -> list[Slo]:
    """``["ttft_p90_ms=300", "tpot_p90_ms=50"]`` → SLOs."""
    from app.observe.slo import parse_slo

    out = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise LoadTestError(f"an SLO is NAME=VALUE, e.g. ttft_p90_ms=300; got {pair!r}")
        try:
            out.append(parse_slo(name.strip(), float(value)))
        except ValueError as e:
            raise LoadTestError(str(e)) from e
    return out


def config_from_specification(spec: dict[str, Any], endpoint: str, **overrides: Any) -> LoadTestConfig:
    """A load test shaped like a deployment's specification: its lengths, its expected rate, its SLOs."""
    from app.observe.slo import slos_from_specification

    base: dict[str, Any] = {
        "endpoint": endpoint,
        "profile": "poisson",
        "rate": float(spec.get("expected_qps") or 1.0),
        "prompt_tokens": int(spec.get("prompt_length_avg") or 512),
        "output_tokens": int(spec.get("generation_length_avg") or 128),
        "slos": slos_from_specification(spec),
    }
    base.update({k: v for k, v in overrides.items() if v is not None})
    return LoadTestConfig(**base)
