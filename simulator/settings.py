"""The simulator's settings: one object, built once, from flags, environment and defaults.

Environment variables take the prefix PREFLIGHT_SIM_. The seed design's bare names MODEL_NAME, GPU_TYPE,
TENSOR_PARALLEL_SIZE and BENCHMARKS_PATH are accepted as aliases so that its deployment style keeps working.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str, *aliases: str) -> AliasChoices:
    return AliasChoices(f"PREFLIGHT_SIM_{name.upper()}", *aliases)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PREFLIGHT_SIM_", populate_by_name=True, extra="ignore")

    host: str = Field(default="127.0.0.1", validation_alias=_env("host"), description="Address to bind.")
    port: int = Field(
        default=8000, ge=0, le=65535, validation_alias=_env("port"), description="Port to bind."
    )
    profile: str | None = Field(
        default=None, validation_alias=_env("profile"), description="Path of a performance profile JSON file."
    )
    preset: str | None = Field(
        default=None,
        validation_alias=_env("preset"),
        description="Built-in profile name (see --list-presets); the default is llama-3.1-8b-h100.",
    )
    model: str | None = Field(
        default=None,
        validation_alias=_env("model", "MODEL_NAME"),
        description="Served model name; with a benchmarks file it is also the lookup key.",
    )
    gpu: str | None = Field(
        default=None, validation_alias=_env("gpu", "GPU_TYPE"), description="GPU for the benchmarks lookup."
    )
    tp: int = Field(
        default=1,
        ge=1,
        validation_alias=_env("tp", "TENSOR_PARALLEL_SIZE"),
        description="Tensor-parallel size for the benchmarks lookup.",
    )
    benchmarks_path: str | None = Field(
        default=None,
        validation_alias=_env("benchmarks_path", "BENCHMARKS_PATH"),
        description="Benchmarks file (serving_measurements.json layout) to derive the profile from.",
    )
    tokenizer: str | None = Field(
        default=None,
        validation_alias=_env("tokenizer"),
        description="Path of a Hugging Face tokenizer.json used to count prompt tokens; "
        "without one a documented approximation is used.",
    )
    seed: int = Field(
        default=0, validation_alias=_env("seed"), description="Seed of text for unseeded requests."
    )
    engine_index: str = Field(
        default="0", validation_alias=_env("engine_index"), description="`engine` label."
    )
    jitter_cv: float | None = Field(
        default=None,
        ge=0,
        le=2,
        validation_alias=_env("jitter_cv"),
        description="Override the profile's jitter.",
    )
    max_lag_ms: float = Field(
        default=50.0,
        ge=0,
        validation_alias=_env("max_lag_ms"),
        description="How far the step schedule may lag wall time before it restarts from now.",
    )
    max_waiting_requests: int = Field(
        default=0,
        ge=0,
        validation_alias=_env("max_waiting_requests"),
        description="Reject new requests with overload_status once this many wait (0: never reject).",
    )
    overload_status: Literal[429, 503] = Field(
        default=429, validation_alias=_env("overload_status"), description="Status code for overload."
    )
    error_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        validation_alias=_env("error_rate"),
        description="Fraction of requests failed.",
    )
    error_codes: list[int] = Field(
        default_factory=lambda: [500],
        validation_alias=_env("error_codes"),
        description="Status codes drawn (uniformly) for injected errors, e.g. [429, 500, 503].",
    )
    slow_start_s: float = Field(
        default=0.0, ge=0, validation_alias=_env("slow_start_s"), description="/health is 503 for this long."
    )
    stall_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        validation_alias=_env("stall_rate"),
        description="Fraction of streams stalled.",
    )
    stall_s: float = Field(default=0.0, ge=0, validation_alias=_env("stall_s"), description="Stall duration.")
    stall_after_tokens: int = Field(
        default=8,
        ge=0,
        validation_alias=_env("stall_after_tokens"),
        description="Tokens sent before a stall.",
    )
    fault_seed: int = Field(
        default=0, validation_alias=_env("fault_seed"), description="Seed of fault draws."
    )
    log_level: str = Field(default="info", validation_alias=_env("log_level"), description="Log level.")
