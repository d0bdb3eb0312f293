"""A prediction at the load a deployment actually served, for comparing with what was observed.

The prediction made when the configuration was recommended describes the planned traffic. A deployment
that receives a tenth of it is much faster than that, which says nothing about the model's accuracy: the
fair comparison is with a prediction at the observed rate and token lengths (pure: the caller passes the
observed figures, per replica).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.perf.calibrate import Calibration
from app.perf.predict import predict
from app.perf.types import GpuSpec, LengthDist, ModelArch, Prediction, Workload

# The observed window gives mean lengths only; chat traffic spreads about this much around them.
OBSERVED_LENGTH_CV = 0.5


class ObservedLoad(BaseModel):
    """Traffic one replica served over an observation window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests_per_s: float = Field(gt=0)
    input_tokens: float = Field(gt=0, description="mean prompt tokens per request")
    output_tokens: float = Field(gt=0, description="mean generated tokens per request")

    @classmethod
    def from_rates(
        cls, requests_per_s: float, prompt_tokens_per_s: float, output_tokens_per_s: float
    ) -> ObservedLoad | None:
        """From window rates (per replica); None when nothing was served (no load to predict at)."""
        if requests_per_s <= 0 or prompt_tokens_per_s <= 0 or output_tokens_per_s <= 0:
            return None
        return cls(
            requests_per_s=requests_per_s,
            input_tokens=prompt_tokens_per_s / requests_per_s,
            output_tokens=max(output_tokens_per_s / requests_per_s, 1.0),
        )


def predict_at_load(
    arch: ModelArch,
    gpu: GpuSpec,
    load: ObservedLoad,
    *,
    tp: int,
    precision: str,
    engine: str,
    calibration: Calibration,
    engine_version: str | None = None,
) -> Prediction:
    """The model's prediction (with percentiles) for one replica at the observed rate and lengths."""
    workload = Workload(
        input_tokens=LengthDist(mean=load.input_tokens, kind="lognormal", cv=OBSERVED_LENGTH_CV),
        output_tokens=LengthDist(mean=load.output_tokens, kind="lognormal", cv=OBSERVED_LENGTH_CV),
        request_rate=load.requests_per_s,
    )
    return predict(
        arch,
        gpu,
        workload,
        tp=tp,
        precision=precision,
        engine=engine,
        calibration=calibration,
        engine_version=engine_version,
        full=True,
    )
