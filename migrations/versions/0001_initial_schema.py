"""Initial schema: the pgvector extension, the knowledge base and Preflight's records.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 14:03:16.212450
"""

from collections.abc import Sequence

import pgvector.sqlalchemy
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # pgvector first: the embedding columns below need its type.
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=80), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_object_id"), "audit_log", ["object_id"], unique=False)
    op.create_table(
        "calibrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("benchmarks_hash", sa.String(length=80), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("stats", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_calibrations_benchmarks_hash"), "calibrations", ["benchmarks_hash"], unique=False
    )
    op.create_table(
        "gpus",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("vendor", sa.String(length=40), nullable=False),
        sa.Column("architecture", sa.String(length=120), nullable=True),
        sa.Column("aliases", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("k8s_product_label", sa.String(length=120), nullable=True),
        sa.Column("memory_gb", sa.Float(), nullable=False),
        sa.Column("memory_type", sa.String(length=60), nullable=True),
        sa.Column("mem_bw_tb_s", sa.Float(), nullable=False),
        sa.Column("bf16_tflops", sa.Float(), nullable=True),
        sa.Column("fp16_tflops", sa.Float(), nullable=True),
        sa.Column("fp8_tflops", sa.Float(), nullable=True),
        sa.Column("int8_tops", sa.Float(), nullable=True),
        sa.Column("interconnect", sa.String(length=20), nullable=False),
        sa.Column("interconnect_gb_s", sa.Float(), nullable=True),
        sa.Column("form_factor", sa.Text(), nullable=True),
        sa.Column("tdp_w", sa.Float(), nullable=True),
        sa.Column("source", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("judgements", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("notes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("seed_source", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.String(length=200), nullable=False, comment="Hugging Face id"),
        sa.Column("family", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("aliases", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("architecture", sa.String(length=120), nullable=True),
        sa.Column("model_type", sa.String(length=60), nullable=True),
        sa.Column("hidden_size", sa.Integer(), nullable=False),
        sa.Column("num_hidden_layers", sa.Integer(), nullable=False),
        sa.Column("num_attention_heads", sa.Integer(), nullable=False),
        sa.Column("num_key_value_heads", sa.Integer(), nullable=False),
        sa.Column("head_dim", sa.Integer(), nullable=True),
        sa.Column("intermediate_size", sa.Integer(), nullable=True),
        sa.Column("moe_intermediate_size", sa.Integer(), nullable=True),
        sa.Column("vocab_size", sa.Integer(), nullable=True),
        sa.Column("max_position_embeddings", sa.Integer(), nullable=False),
        sa.Column("tie_word_embeddings", sa.Boolean(), nullable=True),
        sa.Column("torch_dtype", sa.String(length=20), nullable=True),
        sa.Column("num_experts", sa.Integer(), nullable=True),
        sa.Column("num_experts_per_tok", sa.Integer(), nullable=True),
        sa.Column("num_shared_experts", sa.Integer(), nullable=True),
        sa.Column("first_k_dense_replace", sa.Integer(), nullable=True),
        sa.Column("kv_lora_rank", sa.Integer(), nullable=True),
        sa.Column("q_lora_rank", sa.Integer(), nullable=True),
        sa.Column("qk_rope_head_dim", sa.Integer(), nullable=True),
        sa.Column("qk_nope_head_dim", sa.Integer(), nullable=True),
        sa.Column("v_head_dim", sa.Integer(), nullable=True),
        sa.Column("sliding_window", sa.Integer(), nullable=True),
        sa.Column("sliding_window_pattern", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("checkpoint_quantization", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("params_total_b", sa.Float(), nullable=True, comment="As stated on the card"),
        sa.Column("params_active_b", sa.Float(), nullable=True, comment="As stated on the card"),
        sa.Column("params_computed_b", sa.Float(), nullable=True, comment="From the architecture"),
        sa.Column("hf_safetensors_params", sa.BigInteger(), nullable=True),
        sa.Column("context_window_tokens", sa.Integer(), nullable=True),
        sa.Column("license", sa.String(length=200), nullable=True),
        sa.Column("supported_tasks", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("domains", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("precisions", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "quality",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="Published scores with sources",
        ),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("judgements", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("notes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "seed_source", sa.String(length=200), nullable=True, comment="File or source it was loaded from"
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_models_role"), "models", ["role"], unique=False)
    op.create_table(
        "seed_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "usecase_templates",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("task_type", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("examples", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("slos", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("traffic", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("embedding", pgvector.sqlalchemy.vector.VECTOR(dim=384), nullable=True),
        sa.Column("seed_source", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_usecase_embedding_hnsw",
        "usecase_templates",
        ["embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index(op.f("ix_usecase_templates_task_type"), "usecase_templates", ["task_type"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False, comment="user | admin"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False, comment="sha256 of the token"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "benchmarks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("row_key", sa.String(length=80), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("model_label", sa.String(length=200), nullable=False),
        sa.Column("gpu_id", sa.String(length=60), nullable=False),
        sa.Column("gpu_label", sa.String(length=80), nullable=False),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("tp", sa.Integer(), nullable=False),
        sa.Column("pp", sa.Integer(), nullable=True),
        sa.Column("precision", sa.String(length=20), nullable=False),
        sa.Column("engine", sa.String(length=20), nullable=False, comment="vllm | trtllm | sglang | other"),
        sa.Column("engine_detail", sa.Text(), nullable=False, comment="The engine and version as published"),
        sa.Column("engine_version", sa.String(length=40), nullable=True),
        sa.Column("input_tokens", sa.Float(), nullable=True),
        sa.Column("output_tokens", sa.Float(), nullable=True),
        sa.Column("concurrency", sa.Float(), nullable=True),
        sa.Column("request_rate", sa.Float(), nullable=True),
        sa.Column("batch_size", sa.Float(), nullable=True),
        sa.Column("ttft_ms_mean", sa.Float(), nullable=True),
        sa.Column("ttft_ms_p50", sa.Float(), nullable=True),
        sa.Column("ttft_ms_p90", sa.Float(), nullable=True),
        sa.Column("ttft_ms_p95", sa.Float(), nullable=True),
        sa.Column("ttft_ms_p99", sa.Float(), nullable=True),
        sa.Column("itl_ms_mean", sa.Float(), nullable=True),
        sa.Column("itl_ms_p50", sa.Float(), nullable=True),
        sa.Column("itl_ms_p95", sa.Float(), nullable=True),
        sa.Column("tpot_ms_mean", sa.Float(), nullable=True),
        sa.Column("tpot_ms_p50", sa.Float(), nullable=True),
        sa.Column("tpot_ms_p99", sa.Float(), nullable=True),
        sa.Column("e2e_ms_mean", sa.Float(), nullable=True),
        sa.Column("e2e_ms_p95", sa.Float(), nullable=True),
        sa.Column("output_tokens_per_s", sa.Float(), nullable=True),
        sa.Column("output_tokens_per_s_per_gpu", sa.Float(), nullable=True),
        sa.Column("requests_per_s", sa.Float(), nullable=True),
        sa.Column("gpu_peak_memory_gb", sa.Float(), nullable=True),
        sa.Column("collected", sa.String(length=10), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "extra",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="Other published columns",
        ),
        sa.Column("seed_source", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["gpu_id"], ["gpus.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "row_key", name="uq_benchmarks_natural"),
    )
    op.create_index(
        "ix_benchmarks_config",
        "benchmarks",
        ["model_id", "gpu_id", "tp", "precision", "engine"],
        unique=False,
    )
    op.create_index(op.f("ix_benchmarks_source"), "benchmarks", ["source"], unique=False)
    op.create_table(
        "prices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gpu_id", sa.String(length=60), nullable=False),
        sa.Column(
            "label", sa.String(length=80), nullable=False, comment="The GPU label as the source wrote it"
        ),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("provider", sa.String(length=80), nullable=False),
        sa.Column("region", sa.String(length=80), nullable=True),
        sa.Column("instance_type", sa.String(length=120), nullable=True),
        sa.Column("gpus_per_instance", sa.Integer(), nullable=True),
        sa.Column("usd_per_instance_hour", sa.Float(), nullable=True),
        sa.Column("usd_per_gpu_hour", sa.Float(), nullable=True),
        sa.Column("usd_per_gpu_hour_derived", sa.Boolean(), nullable=False),
        sa.Column("usd_purchase", sa.Float(), nullable=True),
        sa.Column("usd_purchase_high", sa.Float(), nullable=True),
        sa.Column("excludes_host", sa.Boolean(), nullable=False),
        sa.Column("price_date", sa.String(length=10), nullable=True, comment="ISO date, year-month or year"),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("seed_source", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["gpu_id"], ["gpus.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
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
    op.create_index(op.f("ix_prices_gpu_id"), "prices", ["gpu_id"], unique=False)
    op.create_index(op.f("ix_prices_kind"), "prices", ["kind"], unique=False)
    op.create_index(op.f("ix_prices_source"), "prices", ["source"], unique=False)
    op.create_table(
        "recommendations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("input_text", sa.Text(), nullable=True),
        sa.Column("specification", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_recommendations_created_at"), "recommendations", ["created_at"], unique=False)
    op.create_index(op.f("ix_recommendations_owner_id"), "recommendations", ["owner_id"], unique=False)
    op.create_table(
        "usecase_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("template_id", sa.String(length=60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("embedding", pgvector.sqlalchemy.vector.VECTOR(dim=384), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["usecase_templates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_usecase_examples_embedding_hnsw",
        "usecase_examples",
        ["embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recommendation_id", sa.UUID(), nullable=True),
        sa.Column("option_index", sa.Integer(), nullable=True),
        sa.Column("specification", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prediction", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("plan", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "manifests",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="As applied, latest revision",
        ),
        sa.Column(
            "revisions",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="Earlier applied manifests",
        ),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("namespace", sa.String(length=63), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("health", sa.String(length=20), nullable=True, comment="healthy | degraded | unhealthy"),
        sa.Column("health_reason", sa.Text(), nullable=True),
        sa.Column("endpoint", sa.Text(), nullable=True),
        sa.Column(
            "runtime", postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment="pids, ports, handles"
        ),
        sa.Column("smoke_test", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["recommendation_id"], ["recommendations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_deployments_name"), "deployments", ["name"], unique=False)
    op.create_index(op.f("ix_deployments_owner_id"), "deployments", ["owner_id"], unique=False)
    op.create_index(op.f("ix_deployments_state"), "deployments", ["state"], unique=False)
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("specification", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recommendation_id", sa.UUID(), nullable=True),
        sa.Column("option_index", sa.Integer(), nullable=True),
        sa.Column("option", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["recommendation_id"], ["recommendations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "name", name="uq_scenarios_owner_name"),
    )
    op.create_index(op.f("ix_scenarios_owner_id"), "scenarios", ["owner_id"], unique=False)
    op.create_table(
        "deployment_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_deployment_events_deployment_id"), "deployment_events", ["deployment_id"], unique=False
    )
    op.create_table(
        "deployment_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deployment_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False, comment="loadtest | window"),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=True),
        sa.Column("gpu_id", sa.String(length=60), nullable=True),
        sa.Column("tp", sa.Integer(), nullable=True),
        sa.Column("engine", sa.String(length=20), nullable=True),
        sa.Column("precision", sa.String(length=20), nullable=True),
        sa.Column("observed", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("predicted", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("traffic", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cost", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("compliance", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("embedding", pgvector.sqlalchemy.vector.VECTOR(dim=384), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_deployment_outcomes_deployment_id"), "deployment_outcomes", ["deployment_id"], unique=False
    )
    op.create_index(
        op.f("ix_deployment_outcomes_model_id"), "deployment_outcomes", ["model_id"], unique=False
    )
    op.create_index(
        "ix_outcomes_embedding_hnsw",
        "deployment_outcomes",
        ["embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )


def downgrade() -> None:
    op.drop_index(
        "ix_outcomes_embedding_hnsw",
        table_name="deployment_outcomes",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.drop_index(op.f("ix_deployment_outcomes_model_id"), table_name="deployment_outcomes")
    op.drop_index(op.f("ix_deployment_outcomes_deployment_id"), table_name="deployment_outcomes")
    op.drop_table("deployment_outcomes")
    op.drop_index(op.f("ix_deployment_events_deployment_id"), table_name="deployment_events")
    op.drop_table("deployment_events")
    op.drop_index(op.f("ix_scenarios_owner_id"), table_name="scenarios")
    op.drop_table("scenarios")
    op.drop_index(op.f("ix_deployments_state"), table_name="deployments")
    op.drop_index(op.f("ix_deployments_owner_id"), table_name="deployments")
    op.drop_index(op.f("ix_deployments_name"), table_name="deployments")
    op.drop_table("deployments")
    op.drop_index(
        "ix_usecase_examples_embedding_hnsw",
        table_name="usecase_examples",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.drop_table("usecase_examples")
    op.drop_index(op.f("ix_recommendations_owner_id"), table_name="recommendations")
    op.drop_index(op.f("ix_recommendations_created_at"), table_name="recommendations")
    op.drop_table("recommendations")
    op.drop_index(op.f("ix_prices_source"), table_name="prices")
    op.drop_index(op.f("ix_prices_kind"), table_name="prices")
    op.drop_index(op.f("ix_prices_gpu_id"), table_name="prices")
    op.drop_table("prices")
    op.drop_index(op.f("ix_benchmarks_source"), table_name="benchmarks")
    op.drop_index("ix_benchmarks_config", table_name="benchmarks")
    op.drop_table("benchmarks")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_index(op.f("ix_usecase_templates_task_type"), table_name="usecase_templates")
    op.drop_index(
        "ix_usecase_embedding_hnsw",
        table_name="usecase_templates",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.drop_table("usecase_templates")
    op.drop_table("seed_state")
    op.drop_index(op.f("ix_models_role"), table_name="models")
    op.drop_table("models")
    op.drop_table("gpus")
    op.drop_index(op.f("ix_calibrations_benchmarks_hash"), table_name="calibrations")
    op.drop_table("calibrations")
    op.drop_index(op.f("ix_audit_log_object_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.execute("DROP EXTENSION IF EXISTS vector")
