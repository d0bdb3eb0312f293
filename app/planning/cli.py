"""`preflight predict` (one configuration through flags, or many through --jsonl) and `preflight calibrate`.

Where predictions come from: by default the bundled JSON catalog (seed/data) and the shipped calibration
(app/perf/calibration.json), so `predict` never starts a database and 1,000 --jsonl lines take about two
seconds. `--db` reads the catalog, the measured benchmark rows (measured-first: basis measured/interpolated)
and the calibration stored for the current benchmark rows from Postgres, starting the embedded server if
needed; everything is read once per process. `preflight calibrate` fits on every benchmark row in the
database and stores the fit in `calibrations`, keyed by a hash of the rows (a no-op when they did not change).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

DEFAULTS: dict[str, Any] = {"tp": 1, "precision": "bf16", "engine": "vllm"}


def result_dict(pred: Any) -> dict[str, Any]:
    """The documented output keys of one prediction."""
    data = pred.model_dump(mode="json")
    keys = (
        "fits",
        "reason",
        "ttft_ms",
        "itl_ms",
        "tpot_ms",
        "e2e_ms",
        "output_tokens_per_s",
        "requests_per_s",
        "max_concurrency",
        "kv_cache_tokens",
        "saturated",
        "basis",
        "interval",
        "capacity_output_tokens_per_s",
        "evidence",
        "engine_stack",
        "step_basis",
    )
    out = {k: data.get(k) for k in keys}
    if out["reason"] is None:
        out.pop("reason")
    return out


def predict_one(
    spec: dict[str, Any],
    catalog: Any = None,
    *,
    calibration: Any = None,
    measured: Any = None,
) -> dict[str, Any]:
    """Predict one configuration given as a dict of the --jsonl keys; errors come back as {"error": ...}.

    ``measured`` is an optional callable (model_id, gpu_id, tp, precision, engine) -> list[MeasuredPoint].
    """
    from app.perf.errors import PlanningError
    from app.perf.predict import predict
    from app.perf.types import Workload
    from app.planning.catalog import default_catalog
    from app.planning.perf_context import default_calibration

    cat = catalog or default_catalog()
    try:
        if not isinstance(spec, dict):
            raise PlanningError("each line must be a JSON object")
        merged = {**DEFAULTS, **{k: v for k, v in spec.items() if v is not None}}
        for key in ("model", "gpu", "input_tokens", "output_tokens"):
            if key not in merged:
                raise PlanningError(f"missing {key}")
        conc, rate = merged.get("concurrency"), merged.get("request_rate")
        if (conc is None) == (rate is None):
            raise PlanningError("give exactly one of concurrency or request_rate")
        inp, out = int(merged["input_tokens"]), int(merged["output_tokens"])
        if inp <= 0 or out <= 0:
            raise PlanningError("input_tokens and output_tokens must be positive")
        arch = cat.get_model(str(merged["model"]))
        gpu = cat.get_gpu(str(merged["gpu"]))
        workload = Workload.fixed(
            inp,
            out,
            concurrency=int(conc) if conc is not None else None,
            request_rate=float(rate) if rate is not None else None,
        )
        tp, precision, engine = int(merged["tp"]), str(merged["precision"]), str(merged["engine"])
        points = measured(arch.id, gpu.id, tp, precision, engine) if measured is not None else None
        version = merged.get("engine_version")
        pred = predict(
            arch,
            gpu,
            workload,
            tp=tp,
            precision=precision,
            engine=engine,
            calibration=calibration or default_calibration(),
            measured=points,
            engine_version=str(version) if version is not None else None,
        )
        return result_dict(pred)
    except (PlanningError, ValueError, TypeError) as e:
        return {"error": str(e)}


def _human(res: dict[str, Any]) -> str:
    if "error" in res:
        return f"error: {res['error']}"
    if not res["fits"]:
        return f"does not fit: {res.get('reason')}"
    lines = [
        f"basis: {res['basis']}   saturated: {res['saturated']}   max concurrency: {res['max_concurrency']}"
        f"   KV cache: {res['kv_cache_tokens']} tokens"
    ]
    for k in ("ttft_ms", "itl_ms", "tpot_ms", "e2e_ms"):
        s = res[k]
        lines.append(
            f"{k:8s} mean {s['mean']:10.1f}  p50 {s['p50']:10.1f}  p90 {s['p90']:10.1f}  p99 {s['p99']:10.1f}"
        )
    lines.append(f"output tokens/s {res['output_tokens_per_s']:.1f}   requests/s {res['requests_per_s']:.3f}")
    iv = res["interval"]
    lines.append("80% interval: " + ", ".join(f"{k} [{v[0]:.1f}, {v[1]:.1f}]" for k, v in iv.items()))
    return "\n".join(lines)


def predict_command(
    model: str = typer.Option(
        None, "--model", help="catalog id, alias (llama-3.1-8b) or path to config.json"
    ),
    gpu: str = typer.Option(None, "--gpu", help="GPU alias, e.g. H100-SXM-80GB, A100-SXM-80GB, L4"),
    tp: int = typer.Option(1, "--tp", help="tensor parallel degree"),
    precision: str = typer.Option("bf16", "--precision", help="bf16, fp16, fp8, int8 or int4"),
    input_tokens: int = typer.Option(None, "--input-tokens"),
    output_tokens: int = typer.Option(None, "--output-tokens"),
    concurrency: int = typer.Option(None, "--concurrency", help="closed loop: concurrent clients"),
    request_rate: float = typer.Option(
        None, "--request-rate", help="open loop: requests per second (Poisson)"
    ),
    engine: str = typer.Option("vllm", "--engine", help="vllm, trtllm or sglang"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    jsonl: Path = typer.Option(None, "--jsonl", help="file with one configuration per line; '-' for stdin"),
    use_db: bool = typer.Option(
        False,
        "--db",
        help="use the database: its catalog, measured benchmark rows first, and its stored calibration "
        "(starts the embedded database if needed). Default: the bundled JSON catalog and calibration.",
    ),
) -> None:
    """Predict TTFT, ITL/TPOT, E2E, throughput and memory fit of a configuration."""
    ctx: dict[str, Any] = _db_context() if use_db else {}
    if jsonl is not None:
        try:
            text = sys.stdin.read() if str(jsonl) == "-" else jsonl.read_text()
        except OSError as e:
            typer.echo(f"error: cannot read {jsonl}: {e}", err=True)
            raise typer.Exit(2) from e
        out = sys.stdout
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                spec = json.loads(line)
            except json.JSONDecodeError as e:
                res: dict[str, Any] = {"error": f"invalid JSON: {e}"}
            else:
                res = predict_one(spec, **ctx)
            out.write(json.dumps(res) + "\n")
        return
    spec = {
        "model": model,
        "gpu": gpu,
        "tp": tp,
        "precision": precision,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "concurrency": concurrency,
        "request_rate": request_rate,
        "engine": engine,
    }
    res = predict_one(spec, **ctx)
    typer.echo(json.dumps(res, indent=2) if as_json else _human(res))
    if "error" in res:
        raise typer.Exit(2)


def _db_context() -> dict[str, Any]:
    """Catalog, calibration and measured rows from the database, loaded once for the whole batch."""
    from app.cli_support import run_as_cli_user
    from app.services import perf_data

    inputs = run_as_cli_user(perf_data.prediction_inputs)
    if inputs.calibration is None:
        typer.echo(
            "note: no calibration stored for the current benchmark rows; using the bundled one "
            "(run `preflight calibrate` to fit on the database)",
            err=True,
        )
    return {"catalog": inputs.catalog, "calibration": inputs.calibration, "measured": inputs.measured}


def calibrate_command(
    force: bool = typer.Option(False, "--force", help="fit even when the benchmark rows did not change"),
    folds: int = typer.Option(2, "--folds", help="inner folds for the 80% interval widths"),
    iters: int = typer.Option(25, "--iters", help="Levenberg-Marquardt iterations"),
) -> None:
    """Fit the performance model on every benchmark row in the database and store the fit (administrators)."""
    from app.cli_support import run_as_cli_user
    from app.services import perf_data

    cal, refitted = run_as_cli_user(
        lambda ctx: perf_data.calibrate(
            perf_data.CalibrateRequest(force=force, folds=folds, iters=iters), ctx
        )
    )
    stats = cal.fit_stats
    verb = "fitted and stored" if refitted else "already stored for these benchmark rows"
    typer.echo(f"calibration {verb} ({stats.get('benchmarks_hash', '')[:19]}): {cal.n_records} rows")
    for key in ("in_sample_mdape_ttft_ms", "in_sample_mdape_tpot_ms", "in_sample_mdape_output_tokens_per_s"):
        if key in stats:
            typer.echo(f"  {key}: {100 * stats[key]:.1f}%")


def register(app: typer.Typer) -> None:
    """Add `predict` and `calibrate` to the preflight command."""
    app.command("predict")(predict_command)
    app.command("calibrate")(calibrate_command)


def main() -> None:
    app = typer.Typer(add_completion=False)
    register(app)
    app.command("noop", hidden=True)(lambda: None)
    app()


if __name__ == "__main__":
    main()
