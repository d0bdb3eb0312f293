"""`preflight loadtest` and `preflight observe ...`: load tests, observation summaries and the scraper."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from app.observe.loadtest import LoadTestReport
    from app.observe.service import Observation

observe_app = typer.Typer(help="Watch deployments: SLO compliance, health, advice.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _fmt(v: float | None, unit: str = "") -> str:
    return "-" if v is None else f"{v:,.1f}{unit}"


def render_report(report: LoadTestReport) -> str:
    label = report.profile + (
        f" {report.rate:g} req/s" if report.rate else f" x{report.concurrency}" if report.concurrency else ""
    )
    lines = [
        f"{label}: {report.requests} requests, {report.completed} completed, {report.errors} errors "
        f"({report.error_rate:.1%}) in {report.duration_s:.1f} s; {report.prompt_tokens_avg:.0f} -> "
        f"{report.output_tokens_avg:.0f} tokens",
        f"{'':6s} {'mean':>9s} {'p50':>9s} {'p90':>9s} {'p95':>9s} {'p99':>9s}  (ms)",
    ]
    for name, s in (
        ("TTFT", report.ttft_ms),
        ("ITL", report.itl_ms),
        ("TPOT", report.tpot_ms),
        ("E2E", report.e2e_ms),
    ):
        lines.append(f"{name:6s} " + " ".join(f"{_fmt(v):>9s}" for v in (s.mean, s.p50, s.p90, s.p95, s.p99)))
    lines.append(
        f"throughput {report.requests_per_s:.2f} req/s, {report.output_tokens_per_s:,.0f} output tok/s, "
        f"{report.total_tokens_per_s:,.0f} total tok/s; mean concurrency {report.concurrency_mean:.1f}"
    )
    if report.goodput is not None:
        lines.append(
            f"goodput {report.goodput:.1%} of requests met every SLO ({report.goodput_rps:.2f} req/s)"
        )
    for st in report.slo_compliance:
        verdict = "met" if st.met else "MISSED" if st.met is False else "no data"
        lines.append(
            f"  {st.label:14s} target {st.target:g}  observed {_fmt(st.observed)}  {verdict}"
            + (f"  burn rate {st.burn_rate:.2f}x" if st.burn_rate is not None else "")
        )
    if report.error_samples:
        lines.append("errors: " + "; ".join(report.error_samples))
    return "\n".join(lines)


def render_observation(obs: Observation) -> str:
    lines = [f"health: {obs.health.state} — {obs.health.reason}"]
    s = obs.stats
    if s is None:
        lines.append(f"no two samples in the last {obs.window_s:.0f} s: nothing to compute yet")
    else:
        lines.append(
            f"window {s.seconds:.0f} s over {s.targets} target(s), {s.samples} samples: "
            f"{s.request_rate:.2f} req/s, "
            f"{s.output_tokens_per_s:,.0f} output tok/s, queue {_fmt(s.queue_depth_mean)} (max "
            f"{_fmt(s.queue_depth_max)}), KV cache {_fmt((s.kv_cache_usage_mean or 0) * 100, '%')}"
        )
        for name, p in (("TTFT", s.ttft_ms), ("ITL", s.itl_ms), ("E2E", s.e2e_ms)):
            lines.append(
                f"  {name:5s} p50 {_fmt(p.p50)}  p90 {_fmt(p.p90)}  p95 {_fmt(p.p95)}  p99 {_fmt(p.p99)} ms"
            )
    if obs.compliance:
        for st in obs.compliance.slos:
            verdict = "met" if st.met else "MISSED" if st.met is False else "no data"
            lines.append(
                f"  SLO {st.label}: {_fmt(st.observed)} vs {st.target:g} {verdict}; "
                f"burn {_fmt(st.burn_rate)}x; "
                f"{st.time_in_violation_s:.0f} s of {st.evaluated_s:.0f} s in violation"
            )
    if obs.predicted_vs_observed:
        lines.append("predicted (as planned) vs observed:")
        for c in obs.predicted_vs_observed:
            err = "" if c.error_pct is None else f" ({c.error_pct:+.1f}%)"
            lines.append(f"  {c.metric:22s} {_fmt(c.predicted):>10s} -> {_fmt(c.observed):>10s}{err}")
    if obs.predicted_at_observed_load and obs.observed_load:
        load = obs.observed_load
        lines.append(
            f"predicted at observed load ({load.requests_per_s:.2f} req/s per replica, "
            f"{load.input_tokens:.0f} in / {load.output_tokens:.0f} out tokens):"
        )
        for c in obs.predicted_at_observed_load:
            err = "" if c.error_pct is None else f" ({c.error_pct:+.1f}%)"
            lines.append(f"  {c.metric:22s} {_fmt(c.predicted):>10s} -> {_fmt(c.observed):>10s}{err}")
    for a in obs.advice:
        lines.append(f"[{a.severity}] {a.message}")
    return "\n".join(lines)


def loadtest_command(
    endpoint: Annotated[str, typer.Argument(help="Server base URL, e.g. http://127.0.0.1:8000")],
    profile: Annotated[str, typer.Option(help="constant, poisson, concurrency or sweep")] = "concurrency",
    rate: Annotated[float | None, typer.Option(help="Requests per second (constant, poisson)")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Concurrent clients (concurrency)")] = None,
    duration: Annotated[float, typer.Option(help="Seconds of sending, per run")] = 30.0,
    warmup: Annotated[float, typer.Option(help="Seconds of requests left out of the results")] = 0.0,
    prompt_tokens: Annotated[
        int | None, typer.Option(help="Prompt length (default: the spec's, or 512)")
    ] = None,
    output_tokens: Annotated[
        int | None, typer.Option(help="Output length (default: the spec's, or 128)")
    ] = None,
    length_cv: Annotated[
        float, typer.Option(help="Spread of lengths (uniform, coefficient of variation)")
    ] = 0.0,
    slo: Annotated[
        list[str] | None, typer.Option(help="SLO for goodput, e.g. ttft_p90_ms=300 (repeat)")
    ] = None,
    max_requests: Annotated[int | None, typer.Option(help="Stop sending after this many requests")] = None,
    sweep_points: Annotated[int, typer.Option(help="Runs in a sweep (with the two probes)")] = 5,
    model: Annotated[
        str | None, typer.Option(help="Served model name (default: asked from /v1/models)")
    ] = None,
    deployment: Annotated[
        str | None, typer.Option(help="Deployment id: shape the load like its spec and record an outcome")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    seed: Annotated[int, typer.Option(help="Seed of arrivals, lengths and prompts")] = 0,
) -> None:
    """Load-test an OpenAI-compatible endpoint: TTFT/ITL/TPOT/E2E percentiles, throughput and goodput."""
    import asyncio

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from app.observe.loadtest import (
        LoadTestConfig,
        LoadTestError,
        LoadTestReport,
        run_loadtest,
        slos_from_pairs,
    )

    spec: dict[str, Any] = {}
    dep_row: Any = None
    if deployment:
        dep_row = _load_deployment(deployment)
        spec = dict(dep_row.specification or {})
    try:
        slos = slos_from_pairs(slo or [])
        if not slos and spec:
            from app.observe.slo import slos_from_specification

            slos = slos_from_specification(spec)
        if profile in ("constant", "poisson") and rate is None and spec.get("expected_qps"):
            rate = float(spec["expected_qps"])
        cfg = LoadTestConfig(
            endpoint=endpoint,
            model=model,
            profile=profile,
            rate=rate,
            concurrency=concurrency,
            duration_s=duration,
            warmup_s=warmup,
            prompt_tokens=prompt_tokens or int(spec.get("prompt_length_avg") or 512),
            output_tokens=output_tokens or int(spec.get("generation_length_avg") or 128),
            length_cv=length_cv,
            slos=slos,
            max_requests=max_requests,
            sweep_points=sweep_points,
            seed=seed,
        )
    except (LoadTestError, ValueError) as e:
        raise _fail(str(e).splitlines()[0] if "validation" not in str(e) else str(e), 2) from e

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]} done, {task.fields[errors]} errors"),
        TimeRemainingColumn(),
        transient=as_json,
        disable=as_json,
    )
    tasks: dict[str, Any] = {}

    def on_progress(p: Any) -> None:
        if p.label not in tasks:
            tasks[p.label] = bars.add_task(p.label, total=p.duration_s, done=0, errors=0)
        bars.update(tasks[p.label], completed=p.elapsed_s, done=p.completed, errors=p.errors)

    try:
        with bars:
            result = asyncio.run(run_loadtest(cfg, progress=on_progress))
    except LoadTestError as e:
        raise _fail(str(e), 1) from e
    except KeyboardInterrupt as e:
        raise _fail("interrupted", 130) from e
    if dep_row is not None and isinstance(result, LoadTestReport):
        outcome_id = _record(dep_row, result)
        if not as_json:
            typer.echo(f"outcome {outcome_id} recorded for deployment {dep_row.id}")
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    reports = [result] if isinstance(result, LoadTestReport) else result.runs
    typer.echo("\n\n".join(render_report(r) for r in reports))


def _as_operator(fn: Any) -> Any:
    """Run a service function as the command's principal (the operator unless `--user` / PREFLIGHT_USER)."""
    from app.cli_support import run_as_cli_user

    return run_as_cli_user(fn)


def _load_deployment(ident: str) -> Any:
    from app.services import observation

    return _as_operator(lambda ctx: observation.owned_deployment(ident, ctx))


def _record(dep: Any, report: LoadTestReport) -> int:
    from app.services import loadtests

    return int(_as_operator(lambda ctx: loadtests.record_outcome(str(dep.id), report, ctx)))


@observe_app.command("show")
def show_command(
    deployment: Annotated[str, typer.Argument(help="Deployment id")],
    window: Annotated[float, typer.Option(help="Window in seconds")] = 300.0,
    step: Annotated[float, typer.Option(help="Step for time in violation, seconds")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Health, SLO compliance, predicted vs observed and advice for one deployment."""
    from app.services import observation

    req = observation.WindowRequest(deployment_id=deployment, window_s=window, step_s=step)
    obs: Observation = _as_operator(lambda ctx: observation.observe(req, ctx))
    typer.echo(obs.model_dump_json(indent=2) if as_json else render_observation(obs))


@observe_app.command("scrape")
def scrape_command(
    deployments: Annotated[
        list[str] | None, typer.Argument(help="Deployment ids (default: every ready deployment)")
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between scrapes")] = 10.0,
    retention_days: Annotated[float, typer.Option(help="Keep samples this many days")] = 7.0,
    prometheus: Annotated[str | None, typer.Option(help="Prometheus base URL to query instead")] = None,
    once: Annotated[bool, typer.Option(help="Scrape once and exit")] = False,
) -> None:
    """Scrape deployments' vLLM metrics into the database and keep their health up to date."""
    from app.cli_support import run_as_cli_user
    from app.services import scraping

    def report(line: scraping.ScrapeLine) -> None:
        typer.echo(f"{line.deployment_id} {line.target}: {'ok' if line.ok else line.error}")

    run_as_cli_user(
        lambda ctx: scraping.scrape(
            scraping.ScrapeRequest(
                deployment_ids=deployments or [],
                interval_s=interval,
                retention_days=retention_days,
                prometheus_url=prometheus,
                once=once,
            ),
            ctx,
            report,
        )
    )


@observe_app.command("similar")
def similar_command(
    description: Annotated[str, typer.Argument(help="A deployment description")],
    limit: Annotated[int, typer.Option()] = 5,
) -> None:
    """Past outcomes closest to a description, and the one-line summary shown on recommendations."""
    from app.services import observation

    summary, found = _as_operator(lambda ctx: observation.similar(description, ctx, limit=limit))
    for s in found:
        typer.echo(json.dumps(s.model_dump()))
    typer.echo(summary or "no similar outcome with a throughput comparison")


def register(app: typer.Typer) -> None:
    """Add `loadtest` and `observe` to the preflight command."""
    app.command("loadtest")(loadtest_command)
    app.add_typer(observe_app, name="observe")
