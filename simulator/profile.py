"""The performance profile: the JSON contract between the planner and the simulator.

The planner emits a profile; the simulator reads it and uses `Profile.step_ms` for every engine step.
`simulator/README.md` documents the format; keep the two in step.
"""

from __future__ import annotations

import bisect
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SCHEMA_VERSION = 1


class ProfileError(ValueError):
    """A profile could not be read, found or derived. The message says what to change."""


class _Part(BaseModel):
    # Unknown fields are kept so that newer planners can add fields without breaking older simulators.
    model_config = ConfigDict(extra="allow")


class PrefillCost(_Part):
    overhead_ms: float = Field(
        ge=0, description="Fixed cost added to a step that schedules any prefill tokens."
    )
    per_token_ms: float = Field(ge=0, description="Cost per prefill token scheduled in the step.")


class DecodeTablePoint(_Part):
    batch_size: int = Field(ge=1)
    context_tokens: int = Field(ge=0, description="Summed KV context of the batch, in tokens.")
    step_ms: float = Field(gt=0)


class DecodeCost(_Part):
    base_ms: float = Field(ge=0, description="Fixed cost of a step with any decoding sequence.")
    per_seq_ms: float = Field(default=0.0, ge=0, description="Added per decoding sequence in the step.")
    per_context_token_ms: float = Field(
        default=0.0, ge=0, description="Added per token of KV context summed over the decoding sequences."
    )
    table: list[DecodeTablePoint] | None = Field(
        default=None,
        description="Optional measured step times; when present they replace the coefficients "
        "(bilinear interpolation over batch size and context, clamped at the edges).",
    )

    @model_validator(mode="after")
    def _table_is_usable(self) -> DecodeCost:
        if self.table is not None and len(self.table) == 0:
            raise ValueError("decode.table must be null or hold at least one point")
        return self


class KVCache(_Part):
    tokens: int = Field(gt=0, description="KV cache capacity in tokens (all GPUs of the replica together).")
    block_size: int = Field(default=16, gt=0, description="Tokens per KV block (vLLM's --block-size).")

    @property
    def num_blocks(self) -> int:
        return self.tokens // self.block_size


class Jitter(_Part):
    cv: float = Field(default=0.0, ge=0, le=2.0, description="Coefficient of variation of step time noise.")
    seed: int = Field(default=0, description="Seed of the noise generator, so runs repeat.")


class Source(_Part):
    kind: str = Field(description="Where the numbers came from: preset, benchmarks, preflight-predict, ...")
    detail: str = Field(default="", description="Free text: rows used, fit, assumptions.")


class Profile(_Part):
    schema_version: Literal[1] = 1
    model: str = Field(min_length=1, description="Served model name (what /v1/models lists).")
    prefill: PrefillCost
    decode: DecodeCost
    max_num_seqs: int = Field(default=256, gt=0)
    max_num_batched_tokens: int = Field(default=8192, gt=0)
    kv_cache: KVCache
    max_model_len: int | None = Field(
        default=None, gt=0, description="Longest prompt + output accepted; defaults to the KV capacity."
    )
    jitter: Jitter = Field(default_factory=Jitter)
    source: Source | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if self.kv_cache.num_blocks < 1:
            raise ValueError("kv_cache.tokens must hold at least one block of kv_cache.block_size tokens")
        return self

    @property
    def effective_max_model_len(self) -> int:
        return self.max_model_len if self.max_model_len is not None else self.kv_cache.tokens

    def decode_ms(self, num_seqs: int, context_tokens: int) -> float:
        """Time of the decode part of a step with `num_seqs` decoding sequences and summed context."""
        if num_seqs <= 0:
            return 0.0
        if self.decode.table is not None:
            return _interpolate_table(self.decode.table, num_seqs, context_tokens)
        d = self.decode
        return d.base_ms + d.per_seq_ms * num_seqs + d.per_context_token_ms * context_tokens

    def prefill_ms(self, prefill_tokens: int) -> float:
        if prefill_tokens <= 0:
            return 0.0
        return self.prefill.overhead_ms + self.prefill.per_token_ms * prefill_tokens

    def step_ms(self, num_decode: int, context_tokens: int, prefill_tokens: int) -> float:
        """The contract's step-time formula (before jitter)."""
        return self.decode_ms(num_decode, context_tokens) + self.prefill_ms(prefill_tokens)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=False)


def _interpolate_table(points: list[DecodeTablePoint], batch: int, context: int) -> float:
    """Bilinear interpolation over (batch_size, context_tokens), clamped to the table's range.

    The table need not be a full grid: for each batch size present we interpolate linearly in context,
    then interpolate those results linearly in batch size.
    """
    by_batch: dict[int, list[tuple[int, float]]] = {}
    for p in points:
        by_batch.setdefault(p.batch_size, []).append((p.context_tokens, p.step_ms))
    batches = sorted(by_batch)

    def along_context(b: int) -> float:
        row = sorted(by_batch[b])
        xs = [c for c, _ in row]
        return _lerp_clamped(xs, [v for _, v in row], context)

    if batch <= batches[0]:
        return along_context(batches[0])
    if batch >= batches[-1]:
        return along_context(batches[-1])
    i = bisect.bisect_left(batches, batch)
    if batches[i] == batch:
        return along_context(batch)
    b0, b1 = batches[i - 1], batches[i]
    v0, v1 = along_context(b0), along_context(b1)
    return v0 + (v1 - v0) * (batch - b0) / (b1 - b0)


def _lerp_clamped(xs: list[int], ys: list[float], x: float) -> float:
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_left(xs, x)
    x0, x1 = xs[i - 1], xs[i]
    if x1 == x0:
        return ys[i]
    return ys[i - 1] + (ys[i] - ys[i - 1]) * (x - x0) / (x1 - x0)


def parse_profile(data: Any, *, origin: str = "profile") -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as e:
        raise ProfileError(f"{origin} is not a valid performance profile: {e}") from e


def load_profile(path: str | Path) -> Profile:
    """Read a profile JSON file."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ProfileError(f"profile file {p} does not exist; pass an existing file to --profile") from e
    except (OSError, json.JSONDecodeError) as e:
        raise ProfileError(f"cannot read profile file {p}: {e}") from e
    return parse_profile(raw, origin=str(p))
