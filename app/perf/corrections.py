"""Correct a prediction with outcomes observed on real deployments, shrunk toward the global fit.

An outcome says how a similar deployment ran compared with what Preflight predicted for it: observed /
predicted per metric. The correction is the weighted geometric mean of those ratios, shrunk toward 1 (the
calibrated fit) as if the fit itself were ``prior_weight`` outcomes that agreed with it. One noisy outcome
therefore moves a prediction by a fraction of its error, and single ratios are clipped so an outlier cannot
swing it. Pure: the observe layer finds the outcomes and passes them in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from app.perf.types import Prediction, PredictionInterval, Stats

MAX_RATIO = 3.0  # one outcome's ratio is clipped to [1/3, 3]


class OutcomeCorrection(BaseModel):
    """One observed deployment: observed / predicted for the metrics it measured (None: not measured)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ttft_ratio: float | None = Field(default=None, gt=0)
    tpot_ratio: float | None = Field(default=None, gt=0, description="also applied to ITL")
    throughput_ratio: float | None = Field(default=None, gt=0, description="output tokens/s and requests/s")
    weight: float = Field(default=1.0, gt=0, description="e.g. 1 per deployment, more for longer runs")


def _factor(ratios: list[tuple[float, float]], prior_weight: float) -> float:
    if not ratios:
        return 1.0
    clip = math.log(MAX_RATIO)
    num = sum(w * max(-clip, min(clip, math.log(r))) for r, w in ratios)
    return math.exp(num / (sum(w for _, w in ratios) + prior_weight))


def _scale(stats: Stats | None, factor: float) -> Stats | None:
    return None if stats is None else stats.scaled(factor)


def _band(band: tuple[float, float], factor: float) -> tuple[float, float]:
    return (band[0] * factor, band[1] * factor)


OutcomeKey = tuple[str, str, str]


def outcome_key(model_id: str, gpu_id: str, engine: str) -> OutcomeKey:
    """How outcomes are matched to configurations: (model, GPU, engine), case-insensitively."""
    return (model_id.lower(), gpu_id.lower(), engine.lower())


def outcome_factors(
    corrections: Sequence[OutcomeCorrection], prior_weight: float = 3.0
) -> tuple[float, float, float]:
    """(TTFT, TPOT/ITL, throughput) multiplicative factors from ``corrections``, shrunk toward 1."""
    return (
        _factor([(c.ttft_ratio, c.weight) for c in corrections if c.ttft_ratio], prior_weight),
        _factor([(c.tpot_ratio, c.weight) for c in corrections if c.tpot_ratio], prior_weight),
        _factor([(c.throughput_ratio, c.weight) for c in corrections if c.throughput_ratio], prior_weight),
    )


class ConfigOutcomes(BaseModel):
    """The outcomes of one (model, GPU, engine) configuration, as the planner applies them.

    Both planning passes use it: the closed-form screen scales its latencies and capacity by ``factors``, and
    the full model's predictions go through ``apply_outcome_corrections`` with the same outcomes, so the two
    agree. ``fingerprint`` keys the planner's caches of corrected results (physics-only caches stay shared).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcomes: tuple[OutcomeCorrection, ...]
    prior_weight: float = Field(default=3.0, gt=0)

    @property
    def n_outcomes(self) -> int:
        return len(self.outcomes)

    @property
    def factors(self) -> tuple[float, float, float]:
        return outcome_factors(self.outcomes, self.prior_weight)

    @property
    def fingerprint(self) -> tuple[object, ...]:
        return (self.n_outcomes, *(round(f, 9) for f in self.factors))

    def apply(self, prediction: Prediction) -> Prediction:
        return apply_outcome_corrections(prediction, self.outcomes, prior_weight=self.prior_weight)

    def describe(self, subject: str = "") -> str:
        """'corrected by 2 observed outcomes{subject}: TTFT +5%, TPOT +18%' (moves under 0.5% left out)."""
        n = self.n_outcomes
        moves = [
            f"{label} {(f - 1.0) * 100:+.0f}%"
            for label, f in zip(("TTFT", "TPOT", "throughput"), self.factors, strict=True)
            if abs(f - 1.0) >= 0.005
        ]
        head = f"corrected by {n} observed outcome{'s' if n != 1 else ''}{subject}"
        return head + (": " + ", ".join(moves) if moves else " (no change beyond 0.5%)")


def apply_outcome_corrections(
    prediction: Prediction, corrections: Sequence[OutcomeCorrection], *, prior_weight: float = 3.0
) -> Prediction:
    """Return ``prediction`` corrected by ``corrections`` (unchanged when there are none or it does not fit).

    ``corrected_by_outcomes`` counts the outcomes that contributed.
    """
    if not corrections or not prediction.fits:
        return prediction
    f_ttft, f_tpot, f_thr = outcome_factors(corrections, prior_weight)
    e2e = prediction.e2e_ms
    if e2e is not None and prediction.ttft_ms is not None:
        # E2E = TTFT + decode time: correct each part by its own factor.
        decode = max(e2e.mean - prediction.ttft_ms.mean, 0.0)
        corrected = prediction.ttft_ms.mean * f_ttft + decode * f_tpot
        e2e = e2e.scaled(corrected / e2e.mean) if e2e.mean > 0 else e2e
    interval = prediction.interval
    if interval is not None:
        interval = PredictionInterval(
            ttft_ms=_band(interval.ttft_ms, f_ttft),
            tpot_ms=_band(interval.tpot_ms, f_tpot),
            output_tokens_per_s=_band(interval.output_tokens_per_s, f_thr),
        )
    return prediction.model_copy(
        update={
            "ttft_ms": _scale(prediction.ttft_ms, f_ttft),
            "itl_ms": _scale(prediction.itl_ms, f_tpot),
            "tpot_ms": _scale(prediction.tpot_ms, f_tpot),
            "e2e_ms": e2e,
            "output_tokens_per_s": None
            if prediction.output_tokens_per_s is None
            else prediction.output_tokens_per_s * f_thr,
            "requests_per_s": None
            if prediction.requests_per_s is None
            else prediction.requests_per_s * f_thr,
            "interval": interval,
            "corrected_by_outcomes": prediction.corrected_by_outcomes + len(corrections),
        }
    )
