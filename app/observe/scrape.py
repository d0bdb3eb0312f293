"""The metrics scraper: fetch each deployment's vLLM metrics on an interval and store them in Postgres.

Two sources:
- direct: ``GET {endpoint}/metrics`` of every replica (local deployments, or any reachable endpoint);
- Prometheus: one instant query ``{__name__=~"vllm:.+", <selector>}`` against its HTTP API, when one is
  configured (Kubernetes deployments scraped by a Prometheus).

Every scrape becomes one ``metric_samples`` row per target: the snapshot, or the failure with its reason,
so an endpoint that goes away leaves a visible trail and no earlier sample is touched. Rows older than the
retention period are deleted.

With several Preflight replicas, each deployment is scraped by exactly one of them: the scraping task holds
a session-level Postgres advisory lock keyed by the deployment for as long as it runs. When that replica
dies, its connection closes, the lock is released, and another replica's next attempt takes it over.
A scraper keeps all its locks on one connection of its own (lock statements take turns on it), so watching
N deployments holds one pooled connection, not N: with one each, 30 live deployments took the whole pool and
every request got 503 (benchmarks/api_load.py, 50 people with a deployment each).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.observe.metrics import MetricsParseError, Snapshot, parse_metrics, snapshot_from_prometheus
from app.observe.slo import ScrapeState
from db import models as m

logger = logging.getLogger(__name__)

# First key of the two-int advisory lock: "PFOB". The second is derived from the deployment id.
LOCK_CLASS = 0x5046_4F42 - 2**31
DEFAULT_INTERVAL_S = 10.0
DEFAULT_RETENTION = timedelta(days=7)


class ScrapeError(RuntimeError):
    """One target could not be scraped; the message is the reason shown in the deployment's health."""


def metrics_url(endpoint: str) -> str:
    base = endpoint.rstrip("/")
    if base.endswith("/metrics"):
        return base
    return base.removesuffix("/v1") + "/metrics"


async def fetch_snapshot(client: httpx.AsyncClient, endpoint: str, *, timeout_s: float = 5.0) -> Snapshot:
    """Scrape one replica's ``/metrics`` directly."""
    url = metrics_url(endpoint)
    try:
        resp = await client.get(url, timeout=timeout_s)
    except httpx.ConnectError as e:
        raise ScrapeError(f"connection refused at {url}") from e
    except httpx.TimeoutException as e:
        raise ScrapeError(f"no answer from {url} within {timeout_s:g} s") from e
    except httpx.HTTPError as e:
        raise ScrapeError(f"scraping {url} failed: {type(e).__name__}: {e}") from e
    if resp.status_code != 200:
        raise ScrapeError(f"{url} answered HTTP {resp.status_code}")
    try:
        # Off the event loop: a vLLM exposition is hundreds of lines of pure-Python parsing, and the server
        # scrapes every live deployment each interval; inline, each parse delays every other request.
        return await asyncio.to_thread(parse_metrics, resp.text, time.time())
    except MetricsParseError as e:
        raise ScrapeError(f"{url}: {e}") from e


async def fetch_from_prometheus(
    client: httpx.AsyncClient, prometheus_url: str, selector: str, *, timeout_s: float = 10.0
) -> Snapshot:
    """One instant query over every vLLM series matching ``selector`` (PromQL label matchers, e.g.
    ``namespace="llm",app="chat"``), summed into one snapshot like a direct scrape."""
    matchers = '__name__=~"vllm:.+|http_requests_total"' + (f",{selector}" if selector else "")
    url = prometheus_url.rstrip("/") + "/api/v1/query"
    try:
        resp = await client.get(url, params={"query": "{" + matchers + "}"}, timeout=timeout_s)
        resp.raise_for_status()
        body = resp.json()
    except httpx.HTTPError as e:
        raise ScrapeError(f"Prometheus query at {url} failed: {e}") from e
    except ValueError as e:
        raise ScrapeError(f"Prometheus at {url} did not answer JSON") from e
    if body.get("status") != "success":
        raise ScrapeError(f"Prometheus query failed: {body.get('error') or body}")
    result = body.get("data", {}).get("result", [])
    if not result:
        raise ScrapeError(f"Prometheus has no vLLM series matching {{{selector}}}; is the target scraped?")
    try:
        return snapshot_from_prometheus(result, time.time())
    except MetricsParseError as e:
        raise ScrapeError(f"Prometheus series for {{{selector}}}: {e}") from e


def deployment_targets(dep: m.Deployment) -> list[str]:
    """The replicas' endpoints: ``runtime["endpoints"]`` when the deploy engine records several, else the
    deployment's endpoint."""
    runtime = dep.runtime or {}
    endpoints = runtime.get("endpoints")
    if isinstance(endpoints, list) and endpoints:
        return [str(e) for e in endpoints]
    return [dep.endpoint] if dep.endpoint else []


async def scrape_once(
    deployment_id: uuid.UUID,
    targets: Sequence[str],
    *,
    session: AsyncSession,
    client: httpx.AsyncClient,
    prometheus_url: str | None = None,
    prometheus_selector: str | None = None,
) -> list[m.MetricSample]:
    """Scrape every target once and add one sample row per target (ok or failed) to the session."""
    rows: list[m.MetricSample] = []
    sources: list[tuple[str, asyncio.Task[Snapshot]]] = []
    if prometheus_url:
        selector = prometheus_selector or ""
        sources.append(
            (
                f"prometheus:{{{selector}}}",
                asyncio.create_task(fetch_from_prometheus(client, prometheus_url, selector)),
            )
        )
    else:
        for target in targets:
            sources.append((target, asyncio.create_task(fetch_snapshot(client, target))))
    for target, task in sources:
        at = datetime.now(UTC)
        try:
            snap = await task
        except ScrapeError as e:
            logger.info("scrape of %s for deployment %s failed: %s", target, deployment_id, e)
            rows.append(
                m.MetricSample(deployment_id=deployment_id, target=target, at=at, ok=False, error=str(e))
            )
            continue
        at = datetime.fromtimestamp(snap.t, UTC)
        rows.append(
            m.MetricSample(
                deployment_id=deployment_id, target=target, at=at, ok=True, data=snap.model_dump(mode="json")
            )
        )
    session.add_all(rows)
    await session.flush()
    return rows


async def load_series(
    deployment_id: uuid.UUID, *, session: AsyncSession, since: datetime, until: datetime | None = None
) -> dict[str, list[Snapshot]]:
    """The stored snapshots of a deployment in [since, until], by target."""
    q = select(m.MetricSample.target, m.MetricSample.data).where(
        m.MetricSample.deployment_id == deployment_id,
        m.MetricSample.ok.is_(True),
        m.MetricSample.at >= since,
    )
    if until is not None:
        q = q.where(m.MetricSample.at <= until)
    out: dict[str, list[Snapshot]] = {}
    for target, data in (await session.execute(q.order_by(m.MetricSample.at))).all():
        if data:
            out.setdefault(target, []).append(Snapshot.model_validate(data))
    return out


async def scrape_states(
    deployment_id: uuid.UUID, *, session: AsyncSession, lookback: int = 50
) -> list[ScrapeState]:
    """Per target: consecutive failures at the head of its history, the last error, the last good sample."""
    rows = (
        await session.execute(
            select(m.MetricSample.target, m.MetricSample.at, m.MetricSample.ok, m.MetricSample.error)
            .where(m.MetricSample.deployment_id == deployment_id)
            .order_by(m.MetricSample.at.desc(), m.MetricSample.id.desc())
            .limit(lookback * 8)
        )
    ).all()
    states: dict[str, ScrapeState] = {}
    done: set[str] = set()
    for target, at, ok, error in rows:
        st = states.setdefault(target, ScrapeState(target=target))
        if target in done:
            continue
        if ok:
            st.last_ok_at = at
            done.add(target)
        else:
            st.consecutive_failures += 1
            st.first_failure_at = at
            st.last_error = st.last_error or error
    # Targets with no success in the lookback still need their last good time, if any.
    for target, st in states.items():
        if st.last_ok_at is None:
            st.last_ok_at = (
                await session.execute(
                    select(m.MetricSample.at)
                    .where(
                        m.MetricSample.deployment_id == deployment_id,
                        m.MetricSample.target == target,
                        m.MetricSample.ok.is_(True),
                    )
                    .order_by(m.MetricSample.at.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
    return list(states.values())


async def prune_samples(*, session: AsyncSession, retention: timedelta = DEFAULT_RETENTION) -> int:
    """Delete samples older than the retention period; returns how many went."""
    cutoff = datetime.now(UTC) - retention
    result = await session.execute(delete(m.MetricSample).where(m.MetricSample.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def lock_key(deployment_id: uuid.UUID) -> int:
    """A signed 32-bit key derived from the deployment id (the second half of the advisory lock)."""
    digest = hashlib.blake2b(deployment_id.bytes, digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


async def try_lock(conn: AsyncConnection, deployment_id: uuid.UUID) -> bool:
    """Take the deployment's scraping lock on this connection (session level) if no one holds it."""
    got = (
        await conn.execute(
            text("SELECT pg_try_advisory_lock(:c, :k)"), {"c": LOCK_CLASS, "k": lock_key(deployment_id)}
        )
    ).scalar_one()
    await conn.commit()
    return bool(got)


async def release_lock(conn: AsyncConnection, deployment_id: uuid.UUID) -> None:
    """Give the lock back before the connection returns to the pool (a pooled connection keeps its locks)."""
    await conn.execute(
        text("SELECT pg_advisory_unlock(:c, :k)"), {"c": LOCK_CLASS, "k": lock_key(deployment_id)}
    )
    await conn.commit()


class Scraper:
    """Scrapes deployments on an interval; one task per deployment, guarded by its advisory lock.

    After each scrape the deployment's runtime health is re-evaluated (``app.observe.service``).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        retention: timedelta = DEFAULT_RETENTION,
        window_s: float = 300.0,
        prometheus_url: str | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.interval_s = interval_s
        self.retention = retention
        self.window_s = window_s
        self.prometheus_url = prometheus_url
        self.timeout_s = timeout_s
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._client = httpx.AsyncClient(timeout=timeout_s)
        self._lock_conn: AsyncConnection | None = None
        self._lock_turn = asyncio.Lock()  # one statement at a time on the lock connection

    def watching(self) -> list[uuid.UUID]:
        return [d for d, t in self._tasks.items() if not t.done()]

    def watch(
        self, deployment_id: uuid.UUID, targets: Sequence[str] | None = None, *, selector: str | None = None
    ) -> asyncio.Task[None]:
        """Start scraping a deployment (idempotent). ``targets`` default to the deployment's endpoints."""
        task = self._tasks.get(deployment_id)
        if task is None or task.done():
            task = asyncio.create_task(
                self._loop(deployment_id, targets, selector), name=f"scrape-{deployment_id}"
            )
            self._tasks[deployment_id] = task
        return task

    async def unwatch(self, deployment_id: uuid.UUID) -> None:
        task = self._tasks.pop(deployment_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        for dep in list(self._tasks):
            await self.unwatch(dep)
        await self._client.aclose()
        async with self._lock_turn:
            if self._lock_conn is not None:
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await self._lock_conn.close()
                self._lock_conn = None

    async def _take_lock(self, deployment_id: uuid.UUID) -> bool:
        async with self._lock_turn:
            if self._lock_conn is None or self._lock_conn.closed:
                self._lock_conn = await self.engine.connect()
            try:
                return await try_lock(self._lock_conn, deployment_id)
            except (SQLAlchemyError, OSError):
                await self._drop_lock_conn()
                raise

    async def _give_back_lock(self, deployment_id: uuid.UUID) -> None:
        async with self._lock_turn:
            if self._lock_conn is None:
                return  # the connection went away, and every lock it held with it
            try:
                await release_lock(self._lock_conn, deployment_id)
            except (SQLAlchemyError, OSError) as e:
                logger.warning("releasing the scrape lock of %s failed: %s", deployment_id, e)
                await self._drop_lock_conn()

    async def _drop_lock_conn(self) -> None:
        """Forget a broken lock connection (its locks died with it); the next lock opens a fresh one."""
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await conn.invalidate()

    async def run_once(
        self, deployment_id: uuid.UUID, targets: Sequence[str] | None = None, *, selector: str | None = None
    ) -> list[m.MetricSample]:
        """One scrape, stored and committed, then the health re-evaluated."""
        from app.observe.service import update_health

        async with self.sessions() as session:
            if targets is None:
                dep = await session.get(m.Deployment, deployment_id)
                if dep is None:
                    raise ScrapeError(f"deployment {deployment_id} does not exist")
                targets = deployment_targets(dep)
            rows = await scrape_once(
                deployment_id,
                targets,
                session=session,
                client=self._client,
                prometheus_url=self.prometheus_url,
                prometheus_selector=selector,
            )
            await session.commit()
            await update_health(deployment_id, session=session, window_s=self.window_s)
            await session.commit()
        return rows

    async def _loop(
        self, deployment_id: uuid.UUID, targets: Sequence[str] | None, selector: str | None
    ) -> None:
        while not await self._take_lock(deployment_id):
            logger.debug("deployment %s is scraped by another Preflight replica", deployment_id)
            await asyncio.sleep(self.interval_s)
        logger.info("scraping deployment %s every %.0f s", deployment_id, self.interval_s)
        try:
            await self._scrape_forever(deployment_id, targets, selector)
        finally:
            # Shielded: the task is usually being cancelled here, and the unlock must still run.
            await asyncio.shield(self._give_back_lock(deployment_id))

    async def _scrape_forever(
        self, deployment_id: uuid.UUID, targets: Sequence[str] | None, selector: str | None
    ) -> None:
        next_at = time.monotonic()
        pruned_at = 0.0
        while True:
            try:
                await self.run_once(deployment_id, targets, selector=selector)
                if time.monotonic() - pruned_at > 600:
                    async with self.sessions() as session:
                        await prune_samples(session=session, retention=self.retention)
                        await session.commit()
                    pruned_at = time.monotonic()
            except ScrapeError as e:
                logger.warning("deployment %s: %s", deployment_id, e)
            except (SQLAlchemyError, OSError) as e:
                # The database hiccuped: keep the loop alive and try again at the next interval.
                logger.error("deployment %s: storing samples failed: %s", deployment_id, e)
            next_at += self.interval_s
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def watch_live(self, *, states: Sequence[str] = ("ready",)) -> None:
        """Watch every deployment in one of ``states`` that has an endpoint; re-checked every interval."""
        while True:
            async with self.sessions() as session:
                ids = (
                    await session.execute(
                        select(m.Deployment.id).where(
                            m.Deployment.state.in_(list(states)), m.Deployment.endpoint.is_not(None)
                        )
                    )
                ).scalars()
                for dep_id in ids:
                    self.watch(dep_id)
            await asyncio.sleep(self.interval_s)
