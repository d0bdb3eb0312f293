"""SLO compliance, error-budget burn, time in violation, predicted vs observed, and runtime health.

A latency SLO such as "TTFT p90 <= 300 ms" is read the way SRE practice reads it: 90% of requests must see a
TTFT within 300 ms, so the *error budget* is the other 10%. The *burn rate* is the share of requests that
actually exceeded 300 ms divided by that budget: 1.0 spends the budget exactly as fast as allowed, 2.0 twice
as fast. The share above the threshold comes from the histogram increase (interpolated within a bucket), or
from the exact per-request values of a load test.

*Time in violation* splits the window into steps (one minute by default) and adds up the steps whose
percentile missed the target. Runtime *health* (healthy, degraded, unhealthy) is separate from the
deployment's lifecycle state: a "running" deployment can be unhealthy.

Pure functions: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.errors import Invalid
from app.observe.metrics import Hist, Snapshot, fraction_above, increase, quantile, window_stats

SliName = Literal["ttft", "tpot", "itl", "e2e", "error_rate"]
HealthState = Literal["healthy", "degraded", "unhealthy"]
_LATENCY = re.compile(r"^(ttft|tpot|itl|e2e)(?:_latency)?_p(\d{2,3})_ms$")
_LABELS = {"ttft": "TTFT", "tpot": "TPOT", "itl": "ITL", "e2e": "E2E latency", "error_rate": "error rate"}
# A burn rate this high spends a 30-day budget in about 3 days (SRE workbook's fast-burn page threshold).
FAST_BURN = 10.0


class SloError(Invalid, ValueError):
    """An SLO cannot be understood; the message says which names are accepted."""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Slo(_M):
    """One objective: a latency percentile at most ``target`` ms, or an error rate at most ``target``."""

    name: str
    sli: SliName
    percentile: float | None = Field(default=None, description="0.9 for p90; None for the error rate")
    target: float = Field(gt=0)

    @property
    def budget(self) -> float:
        """The allowed share of bad requests."""
        if self.sli == "error_rate":
            return self.target
        assert self.percentile is not None
        return 1.0 - self.percentile

    @property
    def label(self) -> str:
        if self.sli == "error_rate":
            return "error rate"
        assert self.percentile is not None
        return f"{_LABELS[self.sli]} p{round(self.percentile * 100)}"


def parse_slo(name: str, target: float) -> Slo:
    """``ttft_p90_ms``, ``tpot_p90_ms``, ``itl_p95_ms``, ``e2e_p95_ms`` (also ``e2e_latency_p95_ms``), or
    ``error_rate`` (a fraction)."""
    key = name.removeprefix("target_")
    if key == "error_rate":
        return Slo(name="error_rate", sli="error_rate", target=float(target))
    m = _LATENCY.match(key)
    if not m:
        raise SloError(
            f"unknown SLO {name!r}: use ttft_pNN_ms, tpot_pNN_ms, itl_pNN_ms, e2e_pNN_ms or error_rate"
        )
    digits = m.group(2)
    pct = int(digits) / (10 ** len(digits))
    sli: SliName = m.group(1)  # type: ignore[assignment]
    return Slo(name=f"{sli}_p{digits}_ms", sli=sli, percentile=pct, target=float(target))


def slos_from_specification(spec: Mapping[str, Any]) -> list[Slo]:
    """The SLOs of a Specification (``target_*`` fields) or SLOTargets dict; reliability becomes an
    error-rate objective (99.9% → 0.001)."""
    out: list[Slo] = []
    for key, value in spec.items():
        if value is None or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        k = key.removeprefix("target_")
        if _LATENCY.match(k):
            out.append(parse_slo(k, float(value)))
    reliability = spec.get("reliability_target")
    if isinstance(reliability, (int, float)) and 0 < reliability < 100:
        out.append(Slo(name="error_rate", sli="error_rate", target=round(1.0 - reliability / 100.0, 9)))
    return out


class SloStatus(_M):
    """One SLO over a window."""

    slo: str
    label: str
    target: float
    unit: str
    observed: float | None = Field(description="The window's percentile (ms) or error rate; None: no data")
    met: bool | None = Field(description="None when the window had no request")
    bad_fraction: float | None = Field(default=None, description="Share of requests beyond the target")
    error_budget: float = Field(description="Allowed share of bad requests")
    burn_rate: float | None = Field(default=None, description="bad_fraction / error_budget")
    time_in_violation_s: float = 0.0
    evaluated_s: float = 0.0
    compliance_ratio: float | None = Field(
        default=None, description="Share of evaluated time in which the SLO was met"
    )


class Compliance(_M):
    start: float
    end: float
    step_s: float
    slos: list[SloStatus]

    @property
    def violated(self) -> list[SloStatus]:
        return [s for s in self.slos if s.met is False]


def _hist_for(hists: Mapping[str, Hist], slo: Slo) -> Hist | None:
    """The histogram of an SLI; TPOT and ITL stand in for each other (vLLM emits both, older ones one)."""
    hist = hists.get(slo.sli)
    if hist is None and slo.sli in ("itl", "tpot"):
        hist = hists.get("tpot" if slo.sli == "itl" else "itl")
    return hist


def compliance(
    series_by_target: Mapping[str, Sequence[Snapshot]], slos: Sequence[Slo], *, step_s: float = 60.0
) -> Compliance | None:
    """Compliance of each SLO over the series' whole span, and time in violation per ``step_s`` step."""
    whole = increase(series_by_target)
    if whole is None:
        return None
    stats = window_stats(series_by_target)
    assert stats is not None
    steps = _steps(series_by_target, whole.start, whole.end, step_s)
    statuses: list[SloStatus] = []
    for slo in slos:
        bad: float | None
        if slo.sli == "error_rate":
            observed = stats.error_rate
            bad = observed
        else:
            hist = _hist_for(whole.hists, slo)
            if hist is None or hist.total <= 0:
                observed, bad = None, None
            else:
                assert slo.percentile is not None
                q = quantile(slo.percentile, hist)
                observed = None if q is None else round(q * 1e3, 3)
                bad = fraction_above(slo.target / 1e3, hist)
        violation, evaluated = 0.0, 0.0
        for step_series, seconds, _end in steps:
            value = _step_value(step_series, slo)
            if value is None:
                continue
            evaluated += seconds
            if value > slo.target:
                violation += seconds
        statuses.append(_status(slo, observed, bad, violation_s=violation, evaluated_s=evaluated))
    return Compliance(start=whole.start, end=whole.end, step_s=step_s, slos=statuses)


def _status(
    slo: Slo, observed: float | None, bad: float | None, *, violation_s: float = 0.0, evaluated_s: float = 0.0
) -> SloStatus:
    """An SLO's status from its observed value and share of bad requests (None: no data), plus the seconds
    in violation out of those evaluated where the source has steps in time (a load test's values do not)."""
    return SloStatus(
        slo=slo.name,
        label=slo.label,
        target=slo.target,
        unit="fraction" if slo.sli == "error_rate" else "ms",
        observed=observed,
        met=None if observed is None else observed <= slo.target,
        bad_fraction=None if bad is None else round(bad, 6),
        error_budget=round(slo.budget, 9),
        burn_rate=None if bad is None else round(bad / slo.budget, 4),
        time_in_violation_s=round(violation_s, 3),
        evaluated_s=round(evaluated_s, 3),
        compliance_ratio=None if evaluated_s <= 0 else round(1.0 - violation_s / evaluated_s, 4),
    )


def _step_value(series: Mapping[str, Sequence[Snapshot]], slo: Slo) -> float | None:
    if slo.sli == "error_rate":
        s = window_stats(series)
        return None if s is None else s.error_rate
    inc = increase(series)
    if inc is None:
        return None
    hist = _hist_for(inc.hists, slo)
    if hist is None or hist.total <= 0:
        return None
    assert slo.percentile is not None
    q = quantile(slo.percentile, hist)
    return None if q is None else q * 1e3


def steps_of(
    series_by_target: Mapping[str, Sequence[Snapshot]], step_s: float
) -> list[tuple[dict[str, list[Snapshot]], float, float]]:
    """The series cut into steps of ``step_s``: (series of the step, its seconds, its end time)."""
    ts = [s.t for series in series_by_target.values() for s in series]
    if not ts:
        return []
    return _steps(series_by_target, min(ts), max(ts), step_s)


def _steps(
    series_by_target: Mapping[str, Sequence[Snapshot]], start: float, end: float, step_s: float
) -> list[tuple[dict[str, list[Snapshot]], float, float]]:
    """Per step: each target's snapshots in (b0, b1] plus the last one at or before b0."""
    out: list[tuple[dict[str, list[Snapshot]], float, float]] = []
    if end <= start:
        return out
    n = max(1, math.ceil((end - start) / step_s - 1e-9))
    ordered = {k: sorted(v, key=lambda s: s.t) for k, v in series_by_target.items()}
    for i in range(n):
        b0, b1 = start + i * step_s, min(start + (i + 1) * step_s, end)
        step: dict[str, list[Snapshot]] = {}
        for target, series in ordered.items():
            before = [s for s in series if s.t <= b0]
            inside = [s for s in series if b0 < s.t <= b1]
            chosen = ([before[-1]] if before else []) + inside
            if len(chosen) >= 2:
                step[target] = chosen
        if step:
            out.append((step, b1 - b0, b1))
    return out


# ------------------------------------------------------------------------------- from exact request values


def compliance_from_values(
    values_ms: Mapping[str, Sequence[float]], slos: Sequence[Slo], *, errors: int = 0, requests: int = 0
) -> list[SloStatus]:
    """Compliance from per-request values (a load test): ``values_ms`` maps an SLI to its samples."""
    out: list[SloStatus] = []
    for slo in slos:
        if slo.sli == "error_rate":
            observed = errors / requests if requests else None
            bad = observed
        else:
            xs = sorted(values_ms.get(slo.sli, ()))
            if not xs:
                observed, bad = None, None
            else:
                assert slo.percentile is not None
                observed = round(percentile(xs, slo.percentile), 3)
                bad = sum(1 for x in xs if x > slo.target) / len(xs)
        out.append(_status(slo, observed, bad))
    return out


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of sorted values (numpy's default method)."""
    if not sorted_values:
        raise ValueError("no values")
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


# ---------------------------------------------------------------------------------- predicted vs observed


class Comparison(_M):
    metric: str
    predicted: float | None
    observed: float | None
    error_pct: float | None = Field(description="(observed - predicted) / predicted × 100")


_COMPARED = (
    ("ttft_ms", ("p50", "p90", "p99", "mean")),
    ("itl_ms", ("p50", "p90", "mean")),
    ("tpot_ms", ("p50", "p90", "mean")),
    ("e2e_ms", ("p50", "p95", "mean")),
)


def predicted_vs_observed(predicted: Mapping[str, Any], observed: Mapping[str, Any]) -> list[Comparison]:
    """Compare a prediction (Option / Prediction dump) with observed values of the same shape."""
    out: list[Comparison] = []
    for metric, stats in _COMPARED:
        p, o = predicted.get(metric), observed.get(metric)
        if not isinstance(p, Mapping) or not isinstance(o, Mapping):
            continue
        for stat in stats:
            out.append(_cmp(f"{metric}.{stat}", p.get(stat), o.get(stat)))
    for metric in ("output_tokens_per_s", "requests_per_s"):
        if metric in predicted or metric in observed:
            out.append(_cmp(metric, predicted.get(metric), observed.get(metric)))
    return [c for c in out if c.predicted is not None or c.observed is not None]


def _cmp(metric: str, p: Any, o: Any) -> Comparison:
    pv = float(p) if isinstance(p, (int, float)) else None
    ov = float(o) if isinstance(o, (int, float)) else None
    err = None if pv is None or ov is None or pv == 0 else round((ov - pv) / pv * 100.0, 2)
    return Comparison(metric=metric, predicted=pv, observed=ov, error_pct=err)


# ---------------------------------------------------------------------------------------------- health


class ScrapeState(_M):
    """How the latest scrapes of one target went."""

    target: str
    consecutive_failures: int = 0
    last_error: str | None = None
    first_failure_at: datetime | None = None
    last_ok_at: datetime | None = None


class Health(_M):
    state: HealthState
    reason: str


def _hhmmss(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%H:%M:%S UTC") if at else "never"


def runtime_health(
    scrapes: Sequence[ScrapeState],
    statuses: Sequence[SloStatus] = (),
    *,
    error_rate: float | None = None,
    unhealthy_after: int = 2,
) -> Health:
    """Health from reachability first, then errors, then SLOs. The reason names the evidence.

    unhealthy: every replica unreachable, or 5 % or more of requests failing; degraded: some replicas down,
    1-5 % errors, or an SLO missed (a fast burn is named in the reason); healthy otherwise.
    """
    down = [s for s in scrapes if s.consecutive_failures >= unhealthy_after]
    flaky = [s for s in scrapes if 0 < s.consecutive_failures < unhealthy_after]
    if scrapes and len(down) == len(scrapes):
        s = down[0]
        more = f" (and {len(down) - 1} more replicas)" if len(down) > 1 else ""
        return Health(
            state="unhealthy",
            reason=(
                f"endpoint {s.target}{more} unreachable: {s.last_error or 'no answer'}; "
                f"{s.consecutive_failures} scrapes failed since {_hhmmss(s.first_failure_at)}, "
                f"last good sample {_hhmmss(s.last_ok_at)}"
            ),
        )
    reasons: list[str] = []
    state: HealthState = "healthy"
    if down:
        state = "degraded"
        reasons.append(
            f"{len(down)} of {len(scrapes)} replicas unreachable ({down[0].target}: {down[0].last_error})"
        )
    if error_rate is not None and error_rate >= 0.05:
        return Health(state="unhealthy", reason=f"{error_rate:.1%} of requests failed in the window")
    if error_rate is not None and error_rate >= 0.01:
        state = "degraded"
        reasons.append(f"{error_rate:.1%} of requests failed")
    for st in statuses:
        if st.met is False:
            burn = f", burn rate {st.burn_rate:.1f}x" if st.burn_rate is not None else ""
            obs = f"{st.observed:.3g}" if st.unit == "fraction" else f"{st.observed:.0f} ms"
            tgt = f"{st.target:.3g}" if st.unit == "fraction" else f"{st.target:.0f} ms"
            fast = (
                " (fast burn: the error budget is being spent quickly)"
                if (st.burn_rate is not None and st.burn_rate >= FAST_BURN)
                else ""
            )
            reasons.append(f"{st.label} {obs} > {tgt} target{burn}{fast}")
            # Unhealthy means not serving (unreachable, or failing requests); a deployment that answers
            # but misses its latency promises is degraded, however fast it burns its budget.
            if state == "healthy":
                state = "degraded"
    if flaky and state == "healthy":
        reasons.append(f"last scrape of {flaky[0].target} failed ({flaky[0].last_error}); watching")
    if not reasons:
        measured = [s for s in statuses if s.met is not None]
        reasons.append(
            f"all {len(measured)} SLOs met in the window"
            if measured
            else "reachable; no traffic in the window"
        )
    return Health(state=state, reason="; ".join(reasons))
