"""Fault injection for testing clients: injected errors, a slow start, and stalls in the middle of streams.

Faults come from the settings at start-up and can be changed while the server runs with `PUT /sim/faults`
(a simulator-only endpoint). Draws use a seeded generator, so a run repeats.
"""

from __future__ import annotations

import random
import time

from pydantic import BaseModel, ConfigDict, Field


class FaultConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(
        default=0.0, ge=0, le=1, description="Fraction of requests answered with an error."
    )
    error_codes: list[int] = Field(default_factory=lambda: [500], min_length=1, description="Codes drawn.")
    slow_start_s: float = Field(
        default=0.0, ge=0, description="Seconds after start-up during which /health is 503."
    )
    stall_rate: float = Field(default=0.0, ge=0, le=1, description="Fraction of streams that stall once.")
    stall_s: float = Field(default=0.0, ge=0, description="How long a stalled stream pauses.")
    stall_after_tokens: int = Field(
        default=8, ge=0, description="Tokens a stalled stream sends before pausing."
    )
    seed: int = Field(default=0, description="Seed of the fault draws.")


_ERROR_TYPES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    408: "Timeout",
    429: "RateLimitError",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailableError",
    504: "GatewayTimeout",
}


def error_type(status: int) -> str:
    return _ERROR_TYPES.get(status, "InternalServerError" if status >= 500 else "BadRequestError")


class FaultInjector:
    def __init__(self, config: FaultConfig, *, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)

    def ready(self) -> bool:
        return time.monotonic() - self.started >= self.config.slow_start_s

    def seconds_until_ready(self) -> float:
        return max(0.0, self.config.slow_start_s - (time.monotonic() - self.started))

    def draw_error(self) -> int | None:
        c = self.config
        if c.error_rate > 0 and self._rng.random() < c.error_rate:
            return self._rng.choice(c.error_codes)
        return None

    def draw_stall(self) -> float:
        """Seconds a new stream will stall after `stall_after_tokens` tokens (0 for no stall)."""
        c = self.config
        if c.stall_rate > 0 and c.stall_s > 0 and self._rng.random() < c.stall_rate:
            return c.stall_s
        return 0.0
