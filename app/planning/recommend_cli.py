"""`preflight recommend` and `preflight scenario save|list|show|compare|replan|tighten`.

Adapters over ``app.services`` (recommendations, scenarios), acting as the command's principal
(`preflight --user`). Exit codes by error kind: 0 when it planned (even if nothing met the constraints:
`options` is then empty and `relax` says what to loosen); 2 for invalid input (a bad specification, unknown
names); 1 not found or a name taken; 3 when the database is unavailable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from app.cli_support import fail, run_async
from app.errors import Invalid

JSON_KEYS = ("recommendation_id", "specification", "traffic", "options", "rejected", "pareto", "relax")


def register(app: typer.Typer) -> None:
    """Add `recommend` and the `scenario` group to the preflight command."""
    app.command("recommend")(recommend_command)
    scenario_app = typer.Typer(help="Save, compare and re-plan what-if scenarios.", no_args_is_help=True)
    scenario_app.command("save")(scenario_save)
    scenario_app.command("list")(scenario_list)
    scenario_app.command("show")(scenario_show)
    scenario_app.command("compare")(scenario_compare)
    scenario_app.command("replan")(scenario_replan)
    scenario_app.command("tighten")(scenario_tighten)
    app.add_typer(scenario_app, name="scenario")


def _fail(message: str, code: int = 2) -> typer.Exit:
    return fail(message, code)


def _run(coro_fn: Any) -> Any:
    """Run a command's coroutine (errors map to exit codes by kind, in app.errors)."""
    return run_async(coro_fn, validation_what="specification")


def read_spec_file(path: Path) -> dict[str, Any]:
    """The Specification fields in a JSON file (a Specification, or a result that holds one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise Invalid(f"{path} does not exist") from e
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise Invalid(f"cannot read {path} as JSON: {e}") from e
    if not isinstance(data, dict):
        raise Invalid(f"{path} must hold a JSON object (a Specification)")
    inner = data.get("specification")
    return inner if isinstance(inner, dict) else data


def _operator() -> Any:
    """The command's principal (the local operator unless `--user` / PREFLIGHT_USER names a person)."""
    from app.cli_support import cli_context

    return cli_context()


def recommend_command(
    text: str = typer.Argument(
        None, help="The request in words, e.g. 'a chatbot for 1000 users, low latency'."
    ),
    spec_file: Path = typer.Option(None, "--spec", help="A Specification as JSON (instead of TEXT)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    pricing: str = typer.Option(
        "on_demand,list_per_gpu_hour",
        "--pricing",
        help="Rental price kinds to consider: on_demand, list_per_gpu_hour, spot, reserved_1y, reserved_3y.",
    ),
    space_usd: float = typer.Option(None, "--space-usd-per-gpu-month", help="Rack space cost for purchases."),
    top: int = typer.Option(5, "--top", min=1, max=10, help="How many options to show (3-5 is typical)."),
) -> None:
    """Recommend ranked model + GPU configurations with predicted cost and latency."""
    if (text is None) == (spec_file is None):
        raise _fail("give the request TEXT or --spec FILE.json (one of them)")
    kinds = [k.strip() for k in pricing.split(",") if k.strip()]

    async def go() -> Any:
        from app.services import recommendations

        req = recommendations.RecommendRequest(
            specification=read_spec_file(spec_file) if spec_file else None,
            text=text,
            top=top,
            pricing=kinds,
            space_usd_per_gpu_month=space_usd,
        )
        async with _operator() as ctx:
            return await recommendations.recommend(req, ctx)

    result = _run(go)
    if as_json:
        data = result.model_dump(mode="json")
        ordered = {k: data[k] for k in JSON_KEYS} | {k: v for k, v in data.items() if k not in JSON_KEYS}
        sys.stdout.write(json.dumps(ordered, indent=2) + "\n")
        return
    from app.planning.scenarios import format_result

    typer.echo(format_result(result))


# --- scenarios -------------------------------------------------------------------------------------------


def scenario_save(
    name: str = typer.Argument(..., help="Scenario name."),
    recommendation: str = typer.Option(
        None, "--recommendation", "-r", help="Recommendation id to take it from."
    ),
    option: int = typer.Option(1, "--option", help="Rank of the chosen option."),
    spec_file: Path = typer.Option(None, "--spec", help="Plan this Specification and save its option."),
) -> None:
    """Save a scenario: a specification and the chosen option, under a name."""
    if (recommendation is None) == (spec_file is None):
        raise _fail("give --recommendation ID or --spec FILE.json")

    async def go() -> Any:
        from app.services import recommendations, scenarios

        async with _operator() as ctx:
            rid: str | None = recommendation
            if spec_file is not None:
                planned = recommendations.RecommendRequest(specification=read_spec_file(spec_file))
                rid = (await recommendations.recommend(planned, ctx)).recommendation_id
            assert rid is not None
            req = scenarios.SaveScenarioRequest(name=name, recommendation_id=rid, option_rank=option)
            return await scenarios.save(req, ctx)

    view = _run(go)
    typer.echo(f"saved scenario {view.name!r}: {view.summary}")


def scenario_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List saved scenarios."""

    async def go() -> Any:
        from app.services import scenarios

        async with _operator() as ctx:
            return await scenarios.list_all(ctx)

    views = _run(go)
    if as_json:
        typer.echo(json.dumps([v.model_dump(mode="json") for v in views], indent=2))
        return
    if not views:
        typer.echo("No scenarios yet. Save one with `preflight scenario save NAME --recommendation ID`.")
    for v in views:
        typer.echo(f"{v.name:24s} {v.summary}")


def scenario_show(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show a saved scenario."""

    async def go() -> Any:
        from app.services import scenarios

        async with _operator() as ctx:
            return await scenarios.show(name, ctx)

    view = _run(go)
    if as_json:
        typer.echo(view.model_dump_json(indent=2))
        return
    typer.echo(f"{view.name}: {view.summary}")
    if view.option:
        typer.echo(view.option.get("rationale", ""))


def scenario_compare(
    names: list[str] = typer.Argument(..., help="Two or more scenario names; deltas are against the first."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Compare scenarios side by side, with deltas against the first."""
    if len(names) < 2:
        raise _fail("compare needs at least two scenario names")

    async def go() -> Any:
        from app.services import scenarios

        async with _operator() as ctx:
            return await scenarios.compare(scenarios.CompareRequest(names=names), ctx)

    table = _run(go)
    if as_json:
        typer.echo(table.model_dump_json(indent=2))
        return
    from app.planning.scenarios import format_comparison

    typer.echo(format_comparison(table))


def scenario_replan(
    name: str,
    changes: list[str] = typer.Option(
        ..., "--set", help="field=value (JSON value), e.g. --set target_ttft_p90_ms=150"
    ),
    save_as: str = typer.Option(None, "--save-as", help="Save the new top option under this name."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Change fields of a scenario's specification and plan again."""
    parsed: dict[str, Any] = {}
    for item in changes:
        key, sep, raw = item.partition("=")
        if not sep:
            raise _fail(f"--set {item!r}: expected field=value")
        try:
            parsed[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key.strip()] = raw

    async def go() -> Any:
        from app.services import scenarios

        async with _operator() as ctx:
            return await scenarios.replan(name, scenarios.ReplanRequest(changes=parsed, save_as=save_as), ctx)

    result = _run(go)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    from app.planning.scenarios import format_result

    typer.echo(format_result(result))


def scenario_tighten(
    name: str,
    ttft: float = typer.Option(..., "--ttft", help="New TTFT p90 target in ms."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Which configurations stay viable if the TTFT target tightens to X?"""

    async def go() -> Any:
        from app.services import scenarios

        async with _operator() as ctx:
            req = scenarios.TightenRequest(scenario_or_recommendation=name, ttft_p90_ms=ttft)
            return await scenarios.tighten(req, ctx)

    report = _run(go)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    typer.echo(report.summary)
    for line in report.lines:
        typer.echo(f"  {line}")


def main() -> None:  # `python -m app.planning.recommend_cli` until the lead wires register() into app/cli.py
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    app()


if __name__ == "__main__":
    main()
