"""The load the planner sizes for: steady and peak arrival processes from a Specification, in words.

A user count (concurrent, daily or total) or a batch job becomes requests per second only through
:func:`app.intent.schema.derive_load` / ``users_to_qps`` / ``batch_to_qps`` (the one place that arithmetic
lives, each kind with its stated rule and a low–high range). This module adds the arrival process at peak
(Poisson, or gamma when traffic is bursty) and the token-length distributions, and writes every step as a
sentence so that a person can ask "why 40 QPS?" and get the answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.intent.schema import REQUESTS_PER_DAILY_USER, QpsEstimate, Specification, derive_load
from app.perf.types import LengthDist
from app.planning.result import TrafficDerivation

# Coefficient of variation of inter-arrival times at peak, per burstiness pattern. Poisson has cv 1. Bursty
# traffic clusters requests (cv > 1), which the planner models as a gamma renewal process with shape 1/cv².
# "diurnal" describes the slow daily swing (already in the peak multiplier), not sub-second clustering.
BURSTINESS_CV: dict[str, float] = {"steady": 1.0, "low": 1.0, "diurnal": 1.0, "moderate": 1.5, "high": 2.0}

# The seed templates' active share and request rate, used to re-derive the load from a user count when a
# Specification carries users but no derivation (e.g. one edited by hand).
_FALLBACK_ACTIVE_FRACTION = 0.1
_FALLBACK_REQUESTS_PER_MIN = 2.0
# Hours a day at the peak replica count, for the blended monthly cost. Read the daily pattern as a square
# wave: busy hours at the peak and the rest at the autoscaling floor. A peak P × the average then lasts about
# 24 / P hours (the share of the day that carries the traffic); the floor hours still run the replicas sized
# for the average load, which over-counts the night (a conservative blend). At least 4 h: a short spike
# still needs the capacity for a while around it.
MIN_PEAK_HOURS = 4.0


def peak_hours_per_day(peak_to_average: float) -> float:
    """Hours a day spent at the peak replica count (24 / peak-to-average, at least MIN_PEAK_HOURS)."""
    if peak_to_average <= 1.0 + 1e-9:
        return 24.0
    return max(MIN_PEAK_HOURS, 24.0 / peak_to_average)


@dataclass(frozen=True)
class TrafficModel:
    """The concrete load: rates, arrival process and lengths, as the performance model consumes them."""

    steady_qps: float
    peak_qps: float
    arrival: str  # "poisson" | "gamma"
    burstiness_cv: float
    gamma_shape: float  # Workload.burstiness: 1 = Poisson
    input_tokens: LengthDist
    output_tokens: LengthDist
    streaming: bool

    @property
    def tokens_per_request(self) -> float:
        return self.input_tokens.mean + self.output_tokens.mean


def lognormal_cv_from_p95(mean: float, p95: float) -> float:
    """The coefficient of variation of a lognormal with this mean and 95th percentile.

    ln(p95 / mean) = 1.645 σ − σ²/2 (lognormal quantile over mean); the smaller root is the one with
    p95 > mean. cv = sqrt(exp(σ²) − 1). Returns 0 when p95 ≤ mean (no spread to model).
    """
    if p95 <= mean:
        return 0.0
    z = 1.6448536269514722
    target = math.log(p95 / mean)
    disc = z * z - 2.0 * target
    sigma = z - math.sqrt(disc) if disc > 0 else z  # past the maximum of the quantile curve: widest spread
    return math.sqrt(math.exp(sigma * sigma) - 1.0)


def _length(mean: int, p95: int | None) -> LengthDist:
    if p95 is None or p95 <= mean:
        return LengthDist.fixed(mean)
    cv = lognormal_cv_from_p95(float(mean), float(p95))
    # Cap single requests at 4 × p95 so one improbable draw does not dominate memory sizing.
    return LengthDist(mean=float(mean), kind="lognormal", cv=round(cv, 4), max=int(4 * p95))


def _reading(spec: Specification) -> QpsEstimate | None:
    """The derivation the specification carries, or one re-derived from its user count / batch job when the
    load was not stated or edited as a rate (a specification built by hand)."""
    if spec.qps_derivation is not None:
        return spec.qps_derivation
    if spec.origins.get("expected_qps") in ("stated", "edited"):
        return None
    return derive_load(
        concurrent_users=spec.concurrent_users,
        daily_users=spec.daily_users,
        total_users=spec.total_users,
        batch_items=spec.batch_items,
        batch_window_hours=spec.batch_window_hours,
        batch_runs_per_month=spec.batch_runs_per_month,
        active_fraction=_FALLBACK_ACTIVE_FRACTION,
        requests_per_active_user_per_min=_FALLBACK_REQUESTS_PER_MIN,
        peak_multiplier=max(1.0, spec.peak_qps / spec.expected_qps),
        requests_per_user_per_day=REQUESTS_PER_DAILY_USER.get(spec.task_type),
    )


# The fields that state a load; when none of them was stated or edited, the load is an assumption.
LOAD_FIELDS = ("concurrent_users", "daily_users", "total_users", "expected_qps", "peak_qps", "batch_items")
ASSUMED = "Assumed (not stated)"


def load_assumed(spec: Specification) -> bool:
    """True when the person gave no user count, request rate or batch job: the template's load stands in."""
    return not any(spec.origins.get(f) in ("stated", "edited") for f in LOAD_FIELDS)


def derive_traffic(spec: Specification) -> tuple[TrafficDerivation, TrafficModel]:
    """Arrival processes and lengths from a Specification, with the derivation in words."""
    lines: list[str] = []
    reading = _reading(spec)
    assumed = load_assumed(spec)
    if assumed:
        template = f"the {spec.task_type.replace('_', ' ')} template's load"
        how = f"{template}, read as {reading.rule}: {reading.explanation}" if reading else template
        lines.append(
            f"{ASSUMED}: no user count, request rate or batch size was given, so this uses {how}. "
            "State yours to size it properly."
        )
    elif reading is not None:
        lines.append(f"Read as {reading.rule}: {reading.explanation}.")
    else:
        how = spec.origins.get("expected_qps", "given")
        lines.append(f"Steady load {spec.expected_qps:g} QPS ({how}).")
    if spec.peak_qps != spec.expected_qps:
        ratio = spec.peak_qps / spec.expected_qps
        lines.append(
            f"Sized for the peak: {spec.peak_qps:,.2f} QPS ({ratio:.2g} × the steady "
            f"{spec.expected_qps:,.2f} QPS); "
            "the autoscaling floor is sized for the steady load."
        )
    else:
        lines.append(f"Sized for {spec.peak_qps:,.2f} QPS (peak equals steady).")
    if spec.target_throughput_rps and spec.target_throughput_rps > spec.peak_qps:
        lines.append(
            f"The throughput target ({spec.target_throughput_rps:g} rps) is above the peak; "
            "capacity is checked against it too."
        )
    cv = BURSTINESS_CV[spec.burstiness_pattern]
    arrival = "poisson" if cv == 1.0 else "gamma"
    if arrival == "poisson":
        lines.append(f"Burstiness '{spec.burstiness_pattern}': requests arrive as a Poisson process at peak.")
    else:
        lines.append(
            f"Burstiness '{spec.burstiness_pattern}': arrivals cluster (inter-arrival cv {cv:g}, "
            f"a gamma process with shape {1 / cv**2:.2f}), so queues and TTFT tails are longer than with "
            "Poisson arrivals."
        )
    inp = _length(spec.prompt_length_avg, spec.prompt_length_p95)
    out = _length(spec.generation_length_avg, spec.generation_length_p95)
    for label, dist, p95 in (
        ("Prompts", inp, spec.prompt_length_p95),
        ("Replies", out, spec.generation_length_p95),
    ):
        if dist.kind == "fixed":
            lines.append(f"{label}: {dist.mean:.0f} tokens each.")
        else:
            lines.append(
                f"{label}: {dist.mean:.0f} tokens on average, p95 {p95} (lognormal, cv {dist.cv:.2f})."
            )
    tokens_s = spec.expected_qps * (inp.mean + out.mean)
    if spec.batch_items is not None:
        per_run = spec.batch_items * (inp.mean + out.mean)
        runs = spec.batch_runs_per_month or 30.0
        lines.append(
            f"Each run is {per_run / 1e6:,.1f} M tokens ({spec.batch_items * out.mean / 1e6:,.1f} M "
            f"generated), {per_run * runs / 1e6:,.0f} M tokens a month over {runs:g} runs."
        )
    else:
        lines.append(
            f"At the steady load that is {tokens_s:,.0f} tokens/s "
            f"({spec.expected_qps * out.mean:,.0f} generated), "
            f"{tokens_s * 3600 * 730 / 1e6:,.0f} M tokens a month."
        )
    ratio = spec.peak_qps / spec.expected_qps if spec.expected_qps else 1.0
    hours = 24.0 if reading is not None and reading.kind == "batch" else peak_hours_per_day(ratio)
    if hours < 24.0:
        lines.append(
            f"Daily pattern for the blended cost: about {hours:.0f} h a day at the peak replica count, "
            "the rest at the autoscaling floor."
        )
    derivation = TrafficDerivation(
        reading=reading.kind if reading is not None else "rate",
        load_assumed=assumed,
        peak_qps_low=reading.peak_qps_low if reading is not None else None,
        peak_qps_high=reading.peak_qps_high if reading is not None else None,
        peak_hours_per_day=hours,
        steady_qps=spec.expected_qps,
        peak_qps=spec.peak_qps,
        prompt_tokens_avg=spec.prompt_length_avg,
        output_tokens_avg=spec.generation_length_avg,
        arrival=arrival,
        burstiness_cv=cv,
        explanation=lines,
    )
    model = TrafficModel(
        steady_qps=spec.expected_qps,
        peak_qps=max(spec.peak_qps, spec.target_throughput_rps or 0.0),
        arrival=arrival,
        burstiness_cv=cv,
        gamma_shape=1.0 / cv**2,
        input_tokens=inp,
        output_tokens=out,
        streaming=spec.streaming,
    )
    return derivation, model
