"""SQLAlchemy 2 models of the knowledge base and of what Preflight records.

Natural keys (used by the seed loader's upserts):
- models: ``id`` (the Hugging Face id); gpus: ``id``; use-case templates: ``id``;
- prices: (source, kind, provider, region, instance_type, gpu_id, label, price_date): one observation of a
  price on a date;
- benchmarks: (source, row_key), where row_key is a content hash plus a run ordinal, so repeated runs of one
  configuration stay distinct rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

EMBEDDING_DIM = 384


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONB().with_variant(JSON(), "sqlite"), list[str]: ARRAY(Text)}


class Model(Base):
    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(200), primary_key=True, comment="Hugging Face id")
    family: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20), default="recommendable", index=True)
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    architecture: Mapped[str | None] = mapped_column(String(120))
    model_type: Mapped[str | None] = mapped_column(String(60))
    hidden_size: Mapped[int] = mapped_column(Integer)
    num_hidden_layers: Mapped[int] = mapped_column(Integer)
    num_attention_heads: Mapped[int] = mapped_column(Integer)
    num_key_value_heads: Mapped[int] = mapped_column(Integer)
    head_dim: Mapped[int | None] = mapped_column(Integer)
    intermediate_size: Mapped[int | None] = mapped_column(Integer)
    moe_intermediate_size: Mapped[int | None] = mapped_column(Integer)
    vocab_size: Mapped[int | None] = mapped_column(Integer)
    max_position_embeddings: Mapped[int] = mapped_column(Integer)
    tie_word_embeddings: Mapped[bool | None] = mapped_column(Boolean)
    torch_dtype: Mapped[str | None] = mapped_column(String(20))
    num_experts: Mapped[int | None] = mapped_column(Integer)
    num_experts_per_tok: Mapped[int | None] = mapped_column(Integer)
    num_shared_experts: Mapped[int | None] = mapped_column(Integer)
    first_k_dense_replace: Mapped[int | None] = mapped_column(Integer)
    kv_lora_rank: Mapped[int | None] = mapped_column(Integer)
    q_lora_rank: Mapped[int | None] = mapped_column(Integer)
    qk_rope_head_dim: Mapped[int | None] = mapped_column(Integer)
    qk_nope_head_dim: Mapped[int | None] = mapped_column(Integer)
    v_head_dim: Mapped[int | None] = mapped_column(Integer)
    sliding_window: Mapped[int | None] = mapped_column(Integer)
    sliding_window_pattern: Mapped[Any] = mapped_column(JSONB)
    checkpoint_quantization: Mapped[Any] = mapped_column(JSONB)
    params_total_b: Mapped[float | None] = mapped_column(Float, comment="As stated on the card")
    params_active_b: Mapped[float | None] = mapped_column(Float, comment="As stated on the card")
    params_computed_b: Mapped[float | None] = mapped_column(Float, comment="From the architecture")
    hf_safetensors_params: Mapped[int | None] = mapped_column(BigInteger)
    context_window_tokens: Mapped[int | None] = mapped_column(Integer)
    license: Mapped[str | None] = mapped_column(String(200))
    supported_tasks: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    domains: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    precisions: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    quality: Mapped[Any] = mapped_column(JSONB, default=list, comment="Published scores with sources")
    checkpoints: Mapped[Any] = mapped_column(
        JSONB, default=list, comment="Published repos per precision vLLM loads, with publisher"
    )
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    judgements: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    notes: Mapped[Any] = mapped_column(JSONB)
    seed_source: Mapped[str | None] = mapped_column(String(200), comment="File or source it was loaded from")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Gpu(Base):
    __tablename__ = "gpus"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(40))
    architecture: Mapped[str | None] = mapped_column(String(120))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    k8s_product_label: Mapped[str | None] = mapped_column(String(120))
    memory_gb: Mapped[float] = mapped_column(Float)
    memory_type: Mapped[str | None] = mapped_column(String(60))
    mem_bw_tb_s: Mapped[float] = mapped_column(Float)
    bf16_tflops: Mapped[float | None] = mapped_column(Float)
    fp16_tflops: Mapped[float | None] = mapped_column(Float)
    fp8_tflops: Mapped[float | None] = mapped_column(Float)
    int8_tops: Mapped[float | None] = mapped_column(Float)
    interconnect: Mapped[str] = mapped_column(String(20))
    interconnect_gb_s: Mapped[float | None] = mapped_column(Float)
    form_factor: Mapped[str | None] = mapped_column(Text)
    tdp_w: Mapped[float | None] = mapped_column(Float)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    judgements: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    notes: Mapped[Any] = mapped_column(JSONB)
    seed_source: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Price(Base):
    __tablename__ = "prices"
    __table_args__ = (
        UniqueConstraint(
            "source",
            "kind",
            "provider",
            "region",
            "instance_type",
            "gpu_id",
            "label",
            "price_date",
            name="uq_prices_natural",
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    gpu_id: Mapped[str] = mapped_column(ForeignKey("gpus.id", ondelete="RESTRICT"), index=True)
    label: Mapped[str] = mapped_column(String(80), comment="The GPU label as the source wrote it")
    kind: Mapped[str] = mapped_column(String(30), index=True)
    provider: Mapped[str] = mapped_column(String(80))
    region: Mapped[str | None] = mapped_column(String(80))
    instance_type: Mapped[str | None] = mapped_column(String(120))
    gpus_per_instance: Mapped[int | None] = mapped_column(Integer)
    usd_per_instance_hour: Mapped[float | None] = mapped_column(Float)
    usd_per_gpu_hour: Mapped[float | None] = mapped_column(Float)
    usd_per_gpu_hour_derived: Mapped[bool] = mapped_column(Boolean, default=False)
    usd_purchase: Mapped[float | None] = mapped_column(Float)
    usd_purchase_high: Mapped[float | None] = mapped_column(Float)
    excludes_host: Mapped[bool] = mapped_column(Boolean, default=False)
    server_power_w: Mapped[float | None] = mapped_column(
        Float, comment="Whole-server power, W (purchase rows of a multi-GPU server)"
    )
    price_date: Mapped[str | None] = mapped_column(String(10), comment="ISO date, year-month or year")
    source: Mapped[str] = mapped_column(String(120), index=True)
    source_url: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    seed_source: Mapped[str | None] = mapped_column(String(200))

    gpu: Mapped[Gpu] = relationship(lazy="raise")


class Benchmark(Base):
    __tablename__ = "benchmarks"
    __table_args__ = (
        UniqueConstraint("source", "row_key", name="uq_benchmarks_natural"),
        Index("ix_benchmarks_config", "model_id", "gpu_id", "tp", "precision", "engine"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(120), index=True)
    row_key: Mapped[str] = mapped_column(String(80))
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="RESTRICT"))
    model_label: Mapped[str] = mapped_column(String(200))
    gpu_id: Mapped[str] = mapped_column(ForeignKey("gpus.id", ondelete="RESTRICT"))
    gpu_label: Mapped[str] = mapped_column(String(80))
    gpu_count: Mapped[int] = mapped_column(Integer)
    tp: Mapped[int] = mapped_column(Integer)
    pp: Mapped[int | None] = mapped_column(Integer)
    precision: Mapped[str] = mapped_column(String(20))
    engine: Mapped[str] = mapped_column(String(20), comment="vllm | trtllm | sglang | other")
    engine_detail: Mapped[str] = mapped_column(Text, comment="The engine and version as published")
    engine_version: Mapped[str | None] = mapped_column(String(40))
    input_tokens: Mapped[float | None] = mapped_column(Float)
    output_tokens: Mapped[float | None] = mapped_column(Float)
    concurrency: Mapped[float | None] = mapped_column(Float)
    request_rate: Mapped[float | None] = mapped_column(Float)
    batch_size: Mapped[float | None] = mapped_column(Float)
    ttft_ms_mean: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p50: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p90: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p95: Mapped[float | None] = mapped_column(Float)
    ttft_ms_p99: Mapped[float | None] = mapped_column(Float)
    itl_ms_mean: Mapped[float | None] = mapped_column(Float)
    itl_ms_p50: Mapped[float | None] = mapped_column(Float)
    itl_ms_p95: Mapped[float | None] = mapped_column(Float)
    tpot_ms_mean: Mapped[float | None] = mapped_column(Float)
    tpot_ms_p50: Mapped[float | None] = mapped_column(Float)
    tpot_ms_p99: Mapped[float | None] = mapped_column(Float)
    e2e_ms_mean: Mapped[float | None] = mapped_column(Float)
    e2e_ms_p95: Mapped[float | None] = mapped_column(Float)
    output_tokens_per_s: Mapped[float | None] = mapped_column(Float)
    output_tokens_per_s_per_gpu: Mapped[float | None] = mapped_column(Float)
    requests_per_s: Mapped[float | None] = mapped_column(Float)
    gpu_peak_memory_gb: Mapped[float | None] = mapped_column(Float)
    collected: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, comment="Other published columns")
    seed_source: Mapped[str | None] = mapped_column(String(200))


class UseCaseTemplate(Base):
    __tablename__ = "usecase_templates"
    __table_args__ = (
        Index(
            "ix_usecase_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    task_type: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    examples: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    slos: Mapped[dict[str, Any]] = mapped_column(JSONB)
    traffic: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    embedding: Mapped[Any] = mapped_column(Vector(384), nullable=True)
    seed_source: Mapped[str | None] = mapped_column(String(200))


class UseCaseExample(Base):
    """One embedded phrase per template example, so similarity search matches how people speak."""

    __tablename__ = "usecase_examples"
    __table_args__ = (
        Index(
            "ix_usecase_examples_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("usecase_templates.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[Any] = mapped_column(Vector(384))


class IntentExample(Base):
    """A labelled example sentence for a categorical intent field (the k-NN classifier's memory).

    Rows from the bundled seed file and rows an admin loads (`preflight seed load --kind examples`) live
    side by side; reloading use cases or the bundled file never deletes an admin's rows.
    """

    __tablename__ = "intent_examples"
    __table_args__ = (UniqueConstraint("field", "text", name="uq_intent_examples_field_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    field: Mapped[str] = mapped_column(String(40), index=True)
    label: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200), comment="Who wrote or labelled it")
    embedding: Mapped[Any] = mapped_column(Vector(384), nullable=True)
    seed_source: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="user", comment="user | admin")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="Set: the person cannot sign in and their tokens are refused"
    )


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="default")
    token_hash: Mapped[str] = mapped_column(String(128), unique=True, comment="sha256 of the token")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="Unset: never expires"
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """A refused password sign-in; recent ones throttle further attempts per user name and per address."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_user_at", "user_name", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_name: Mapped[str] = mapped_column(String(80), comment="As typed (may not exist)")
    ip: Mapped[str] = mapped_column(String(64))


class Calibration(Base):
    """A fit of the performance model's efficiency factors, with its statistics."""

    __tablename__ = "calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    benchmarks_hash: Mapped[str] = mapped_column(String(80), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONB)


class Recommendation(Base):
    __tablename__ = "recommendations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    input_text: Mapped[str | None] = mapped_column(Text)
    specification: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)


class Scenario(Base):
    __tablename__ = "scenarios"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_scenarios_owner_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    specification: Mapped[dict[str, Any]] = mapped_column(JSONB)
    recommendation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("recommendations.id", ondelete="SET NULL")
    )
    option_index: Mapped[int | None] = mapped_column(Integer)
    option: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Deployment(Base):
    __tablename__ = "deployments"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(63), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    recommendation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("recommendations.id", ondelete="SET NULL")
    )
    option_index: Mapped[int | None] = mapped_column(Integer)
    specification: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    prediction: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    manifests: Mapped[Any] = mapped_column(JSONB, default=list, comment="As applied, latest revision")
    revisions: Mapped[Any] = mapped_column(JSONB, default=list, comment="Earlier applied manifests")
    target: Mapped[str] = mapped_column(String(20), default="local")
    namespace: Mapped[str] = mapped_column(String(63), default="default")
    state: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    health: Mapped[str | None] = mapped_column(String(20), comment="healthy | degraded | unhealthy")
    health_reason: Mapped[str | None] = mapped_column(Text)
    endpoint: Mapped[str | None] = mapped_column(Text)
    runtime: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, comment="pids, ports, handles")
    smoke_test: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)

    events: Mapped[list[DeploymentEvent]] = relationship(
        back_populates="deployment", order_by="DeploymentEvent.id", lazy="raise"
    )


class DeploymentEvent(Base):
    """One lifecycle transition of a deployment: its state history."""

    __tablename__ = "deployment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deployments.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    deployment: Mapped[Deployment] = relationship(back_populates="events", lazy="raise")


class DeploymentOutcome(Base):
    """What a deployment actually did, with an embedding of its description for similarity search."""

    __tablename__ = "deployment_outcomes"
    __table_args__ = (
        Index(
            "ix_outcomes_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), default="loadtest", comment="loadtest | window")
    description: Mapped[str] = mapped_column(Text)
    model_id: Mapped[str | None] = mapped_column(String(200), index=True)
    gpu_id: Mapped[str | None] = mapped_column(String(60))
    tp: Mapped[int | None] = mapped_column(Integer)
    engine: Mapped[str | None] = mapped_column(String(20))
    precision: Mapped[str | None] = mapped_column(String(20))
    observed: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    predicted: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    traffic: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    cost: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    compliance: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    embedding: Mapped[Any] = mapped_column(Vector(384), nullable=True)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(80), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class SeedState(Base):
    """Bookkeeping: which bundled seed version the database holds."""

    __tablename__ = "seed_state"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class MetricSample(Base):
    """One scrape of one target of a deployment (app/observe): the cumulative vLLM metrics, or the failure.

    ``data`` is an ``app.observe.metrics.Snapshot`` (counters, gauges, histograms summed over label sets).
    Rows older than the retention period are deleted by the scraper.
    """

    __tablename__ = "metric_samples"
    __table_args__ = (Index("ix_metric_samples_deployment_at", "deployment_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(Text, comment="The scraped URL, or prometheus:<selector>")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    error: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
