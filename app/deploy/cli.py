"""`preflight deploy`, `preflight deployments list|show|rollback|delete|cancel|reconcile|stop-all`,
`preflight test`.

Exit codes by error kind (app/errors.py): 0 done; 1 the deployment failed, or it is not found, busy or in a
state that does not allow the operation; 2 invalid input (invalid plan or manifests); 3 the database or the
cluster is unavailable. Errors are one line on stderr, never a traceback.
`--output-dir` and `--kubeconfig` name server paths: only administrators (the local operator) may use them.

The CLI acts as `--user NAME` (env PREFLIGHT_USER) when given, else as the local operator (`system`, admin).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from app.cli_support import fail, run_async
from app.errors import Invalid

if TYPE_CHECKING:
    from app.auth import Principal
    from app.deploy.events import ProgressEvent

T = TypeVar("T")

UserOpt = Annotated[
    str | None, typer.Option("--user", envvar="PREFLIGHT_USER", help="Act as this Preflight user.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output (NDJSON for progress).")]
DeploymentIdArg = Annotated[str, typer.Argument(help="Deployment id.")]


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy_command)
    app.command("test")(test_command)
    deployments = typer.Typer(
        help="List, inspect, roll back, delete or cancel deployments.", no_args_is_help=True
    )
    deployments.command("list")(list_command)
    deployments.command("show")(show_command)
    deployments.command("rollback")(rollback_command)
    deployments.command("delete")(delete_command)
    deployments.command("cancel")(cancel_command)
    deployments.command("reconcile")(reconcile_command)
    deployments.command("stop-all")(stop_all_command)
    app.add_typer(deployments, name="deployments")


# --- plumbing -----------------------------------------------------------------------------------------------
def _run(fn: Callable[[], Awaitable[T]]) -> T:
    """Run a command's coroutine (errors map to exit codes by kind, in app.errors)."""
    return run_async(
        fn,
        interrupted=(
            "interrupted: the deployment stays where it was; `preflight deployments cancel ID` stops it, and "
            "the next `preflight deployments reconcile` (or server start) resumes it"
        ),
    )


async def _principal(user: str | None) -> Principal:
    """This command's ``--user``, else the root one (see :func:`app.cli_support.cli_principal`)."""
    from app.cli_support import cli_principal

    return await cli_principal(user)


async def _print_events(events: AsyncIterator[ProgressEvent], as_json: bool) -> bool:
    """Print each event; returns whether the run ended well."""
    from app.deploy.events import Finished, line

    ok = True
    async for ev in events:
        typer.echo(ev.model_dump_json() if as_json else line(ev))
        if isinstance(ev, Finished):
            ok = ev.ok
    return ok


def _load_plan_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise Invalid(f"cannot read the plan file {path}: {e}") from e
    if not isinstance(data, dict):
        raise Invalid(f"{path} does not hold a plan (a mapping of DeploymentPlan fields)")
    return data


# --- preflight deploy ---------------------------------------------------------------------------------------
def deploy_command(
    recommendation: Annotated[
        str | None, typer.Option("--recommendation", "-r", help="Recommendation id.")
    ] = None,
    option: Annotated[int, typer.Option("--option", "-o", help="Rank of the option to deploy.")] = 1,
    plan_file: Annotated[
        Path | None, typer.Option("--plan", help="A DeploymentPlan as YAML/JSON (its deployment_id updates)")
    ] = None,
    target: Annotated[str, typer.Option("--target", "-t", help="local | kubernetes")] = "local",
    mode: Annotated[
        str | None,
        typer.Option("--mode", help="simulator | real (default: simulator locally, real on a cluster)"),
    ] = None,
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Kubernetes namespace.")] = "default",
    replicas: Annotated[int | None, typer.Option("--replicas", help="Run exactly N replicas.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Render, validate and (on a cluster) server-side dry-run only.")
    ] = False,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", help="Write the manifests here.")] = None,
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", envvar="KUBECONFIG")] = None,
    context: Annotated[str | None, typer.Option("--context", help="kubeconfig context")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait until ready.")] = 600.0,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deploy a recommendation option (or a plan file) locally or to Kubernetes, printing progress."""
    if (recommendation is None) == (plan_file is None):
        raise fail("give exactly one of --recommendation ID or --plan FILE", 2)

    async def go() -> bool:
        from app.services import deployments
        from app.services.context import unit_of_work

        who = await _principal(user)
        paths = deployments.ServerPaths(output_dir=output_dir, kubeconfig=kubeconfig)
        paths.check_allowed(who)
        req = deployments.DeployRequest.model_validate(
            {
                "recommendation_id": recommendation,
                "option": option,
                "plan": _load_plan_file(plan_file) if plan_file is not None else None,
                "target": target,
                "mode": mode,
                "namespace": namespace,
                "replicas": replicas,
                "context": context,
                "ready_timeout_s": timeout,
            }
        )
        async with unit_of_work(who) as ctx:
            planned = await deployments.plan(req, ctx)
            if dry_run:
                _print_preview(await deployments.preview(planned, paths), output_dir, as_json)
                return True
            view = await deployments.create(planned, ctx, paths)
        if output_dir is not None:
            typer.echo(f"wrote the manifests to {output_dir}", err=True)
        typer.echo(f"deployment {view.id} ({view.name}) on {target}", err=True)
        return await _print_events(deployments.run(view.id, who, ready_timeout_s=timeout), as_json)

    if not _run(go):
        raise typer.Exit(1)


def _print_preview(result: Any, output_dir: Path | None, as_json: bool) -> None:
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    typer.echo(result.yaml)
    for text in result.dry_run:
        typer.echo(f"# {text}", err=True)
    if result.written:
        typer.echo(f"# wrote {len(result.written)} files to {output_dir}", err=True)


# --- preflight deployments ----------------------------------------------------------------------------------
def list_command(
    all_: Annotated[bool, typer.Option("--all", help="Include deleted deployments.")] = False,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deployments you can see (yours; an admin sees everyone's)."""

    async def go() -> None:
        from app.services import deployments
        from app.services.context import unit_of_work

        who = await _principal(user)
        async with unit_of_work(who) as ctx:
            views = await deployments.list_all(ctx, include_deleted=all_)
        if as_json:
            typer.echo(json.dumps([v.model_dump(mode="json") for v in views], indent=2))
            return
        if not views:
            typer.echo("no deployments")
        for v in views:
            typer.echo(
                f"{v.id}  {v.state:<13} {v.target:<10} {v.name:<40} {v.endpoint or '-'}  "
                f"rev {v.revision}  {v.created_at:%Y-%m-%d %H:%M}"
            )

    _run(go)


def show_command(
    deployment_id: DeploymentIdArg,
    manifests: Annotated[bool, typer.Option("--manifests", help="Print the applied manifests.")] = False,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A deployment: its state history, endpoint, smoke test and (with --manifests) what was applied."""

    async def go() -> None:
        from app.services import deployments
        from app.services.context import unit_of_work

        who = await _principal(user)
        async with unit_of_work(who) as ctx:
            d = await deployments.get(deployment_id, ctx)
        if as_json:
            typer.echo(d.model_dump_json(indent=2))
            return
        typer.echo(
            f"{d.id}  {d.name}  state {d.state}  target {d.target}/{d.namespace}  revision {d.revision}"
        )
        typer.echo(f"model {d.model_id} ({d.mode})  endpoint {d.endpoint or '-'}  health {d.health or '-'}")
        if d.smoke_test is not None:
            st = d.smoke_test
            typer.echo(
                f"smoke test: {'ok' if st.ok else 'failed'} TTFT {st.ttft_ms} ms ITL {st.itl_ms_mean} ms"
                + (f" ({st.error})" if st.error else "")
            )
        for e in d.events:
            why = e.detail.get("error") or e.detail.get("reason") or ""
            typer.echo(
                f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.from_state or '-':>13} -> {e.to_state:<13} "
                f"by {e.actor}  {why}"
            )
        if manifests:
            typer.echo(d.manifests_yaml)
        await _print_observation(d.id, who)

    _run(go)


async def _print_observation(deployment_id: str, who: Principal) -> None:
    """What app/observe saw of the deployment (health, SLOs, predicted vs observed, advice), when the
    scraper has stored samples for it; nothing otherwise."""
    from app.observe.cli import render_observation
    from app.services import observation
    from app.services.context import unit_of_work

    async with unit_of_work(who) as ctx:
        obs = await observation.observe(observation.WindowRequest(deployment_id=deployment_id), ctx)
    if obs.samples_stored > 0:
        typer.echo("observed (last 5 minutes):")
        typer.echo(render_observation(obs))


def _stream_command(op: str, deployment_id: str, user: str | None, as_json: bool) -> None:
    async def go() -> bool:
        from app.services import deployments

        who = await _principal(user)
        fn = {"rollback": deployments.rollback, "delete": deployments.delete}[op]
        return await _print_events(fn(deployment_id, who), as_json)

    if not _run(go):
        raise typer.Exit(1)


def rollback_command(
    deployment_id: DeploymentIdArg,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-apply the previous revision, or remove everything when there is none."""
    _stream_command("rollback", deployment_id, user, as_json)


def delete_command(
    deployment_id: DeploymentIdArg,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop and remove what the deployment runs; its history is kept."""
    _stream_command("delete", deployment_id, user, as_json)


def cancel_command(
    deployment_id: DeploymentIdArg,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel an in-flight deployment (it stops and rolls back)."""

    async def go() -> None:
        from app.deploy.events import line
        from app.services import deployments

        who = await _principal(user)
        events = await deployments.cancel(deployment_id, who)
        if not events:
            typer.echo("cancel requested: the running deployment stops within a second and rolls back")
        for ev in events:
            typer.echo(ev.model_dump_json() if as_json else line(ev))

    _run(go)


def stop_all_command(
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop every local deployment whose processes are still running (they outlive `preflight up`)."""

    async def go() -> tuple[int, bool]:
        from app.deploy.events import Finished, line
        from app.services import deployments

        who = await _principal(user)
        stopped, ok = 0, True
        async for ev in deployments.stop_all_local(who):
            typer.echo(ev.model_dump_json() if as_json else line(ev))
            if isinstance(ev, Finished):
                stopped += ev.ok
                ok = ok and ev.ok
        return stopped, ok

    stopped, ok = _run(go)
    if not as_json:
        typer.echo(f"stopped {stopped} local deployment(s)" if stopped else "no local deployment is running")
    if not ok:
        raise typer.Exit(1)


def reconcile_command(
    no_resume: Annotated[
        bool, typer.Option("--no-resume", help="Fail in-flight deployments instead.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Resume (or cleanly fail) deployments left in flight by a Preflight process that stopped."""

    async def go() -> None:
        from app.services import deployments

        results = await deployments.reconcile(await _principal(None), resume=not no_resume)
        if as_json:
            typer.echo(json.dumps([r.model_dump() for r in results], indent=2))
            return
        if not results:
            typer.echo("nothing in flight")
        for r in results:
            typer.echo(f"{r.deployment_id}: {r.from_state} -> {r.to_state or '-'} ({r.action}) {r.message}")

    _run(go)


# --- preflight test -----------------------------------------------------------------------------------------
def test_command(
    endpoint: Annotated[str, typer.Argument(help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000")],
    model: Annotated[
        str | None, typer.Option("--model", help="Model name (default: the first served).")
    ] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens")] = 32,
    api_key: Annotated[str | None, typer.Option("--api-key", envvar="OPENAI_API_KEY")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Send one streamed chat completion and report TTFT and ITL."""
    from app.deploy.smoke import smoke_test

    result = asyncio.run(smoke_test(endpoint, model=model, max_tokens=max_tokens, api_key=api_key))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    elif result.ok:
        typer.echo(
            f"ok: {result.model} TTFT {result.ttft_ms:.1f} ms, ITL mean {result.itl_ms_mean or 0:.1f} ms "
            f"(p50 {result.itl_ms_p50 or 0:.1f}, max {result.itl_ms_max or 0:.1f}), {result.chunks} tokens, "
            f"e2e {result.e2e_ms:.0f} ms\n{result.text}"
        )
    if not result.ok:
        typer.secho(
            f"error: smoke test of {result.endpoint} failed: {result.error}", err=True, fg=typer.colors.RED
        )
        raise typer.Exit(1)


def main() -> None:  # `python -m app.deploy.cli` works before app/cli.py wires register()
    app = typer.Typer(no_args_is_help=True)
    register(app)
    app()


if __name__ == "__main__":
    main()
