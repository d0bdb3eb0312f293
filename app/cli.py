"""The `preflight` command: running the service, admin tasks and scripting.

Imports stay light at module level so `preflight --help` starts fast; each command imports what it needs.
Errors that a person can act on become one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from app.cli_support import (
    cli_context,
    echo_json,
    fail,
    run_as_cli_user,
    run_async,
    set_acting_user,
)

if TYPE_CHECKING:
    pass

T = TypeVar("T")

app = typer.Typer(
    name="preflight",
    help="Preflight: plan, deploy and watch LLM serving on Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the database (embedded or external).", no_args_is_help=True)
seed_app = typer.Typer(help="Load and export the knowledge base's seed data.", no_args_is_help=True)
user_app = typer.Typer(help="Manage people who can sign in.", no_args_is_help=True)
data_app = typer.Typer(help="Check the knowledge base.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens (list, create with an expiry, revoke).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(seed_app, name="seed")
app.add_typer(user_app, name="user")
app.add_typer(data_app, name="data")
app.add_typer(token_app, name="token")


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more detail to stderr.")] = False,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            envvar="PREFLIGHT_USER",
            help="Act as this Preflight user in every command (default: the local operator, an admin).",
        ),
    ] = None,
) -> None:
    set_acting_user(user)
    level = logging.DEBUG if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


# ---------------------------------------------------------------------------------------------------- up


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).")] = None,
) -> None:
    """Start Preflight: the database (embedded unless configured), migrations, seed data, then the app."""
    from app.config import get_settings
    from app.errors import exit_code
    from app.server import PortUnavailableError, serve

    settings = get_settings()
    logging.getLogger().setLevel(settings.log_level)
    try:
        serve(host or settings.host, port or settings.port)
    except PortUnavailableError as e:
        raise fail(str(e), exit_code(e)) from e
    except KeyboardInterrupt:
        pass
    typer.echo("stopped")


# ---------------------------------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Run the migrations up to REVISION (default: the latest)."""
    from db.migrate import current_revision, upgrade
    from db.session import get_engine

    async def go() -> str | None:
        engine = await get_engine(prepare=False)
        await upgrade(engine, revision)
        return await current_revision(engine)

    typer.echo(f"database at revision {run_async(go)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' for empty.")],
) -> None:
    """Roll the schema back to REVISION ('base' removes every table)."""
    from db.migrate import current_revision, downgrade
    from db.session import get_engine

    async def go() -> str | None:
        engine = await get_engine(prepare=False)
        await downgrade(engine, revision)
        return await current_revision(engine)

    typer.echo(f"database at revision {run_async(go) or 'base (empty)'}")


@db_app.command("status")
def db_status() -> None:
    """Show which database is used, its revision and row counts."""
    from app.services import knowledge
    from db.migrate import current_revision
    from db.session import describe_url, get_engine, resolve_url

    async def go() -> dict[str, Any]:
        # The database's own state (which server, which revision) is the composition root's to read; the
        # counts go through the service, so they are for administrators.
        engine = await get_engine()
        async with cli_context() as ctx:
            counts = await knowledge.table_counts(ctx)
        return {
            "url": describe_url(await asyncio.to_thread(resolve_url)),
            "revision": await current_revision(engine),
            "counts": counts,
        }

    echo_json(run_async(go))


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded database server of this data directory."""
    from app.config import get_settings
    from db.embedded import stop

    settings = get_settings()
    if settings.database_url:
        raise fail("PREFLIGHT_DATABASE_URL is set: Preflight does not manage that server", 2)
    typer.echo("stopped" if stop(settings.pg_dir) else f"no embedded server running in {settings.pg_dir}")


# ---------------------------------------------------------------------------------------------------- seed


@seed_app.command("load")
def seed_load(
    files: Annotated[list[Path], typer.Argument(help="JSON or CSV files (ours, or shared/data's).")],
    kind: Annotated[
        str | None,
        typer.Option(help="models|gpus|prices|benchmarks|usecases|examples (inferred when omitted)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count, write nothing.")] = False,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Also delete rows of that kind from the same source not in the file."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Validate FILES and load them in one transaction: all rows or none."""
    from app.services import knowledge
    from seed.schemas import SEED_KINDS, SeedKind

    if kind is not None and kind not in SEED_KINDS:
        raise fail(f"--kind must be one of {', '.join(SEED_KINDS)}", 2)

    result = run_as_cli_user(
        lambda ctx: knowledge.load_seed(
            knowledge.SeedLoadRequest(
                files=files, kind=cast(SeedKind | None, kind), replace=replace, dry_run=dry_run
            ),
            ctx,
        )
    )
    if as_json:
        echo_json({"dry_run": dry_run, "kinds": result})
        return
    prefix = "would load (dry run)" if dry_run else "loaded"
    for k, s in result.items():
        line = f"{prefix} {k}: {s['added']} added, {s['updated']} updated, {s['unchanged']} unchanged"
        if replace:
            line += f", {s['deleted']} deleted"
        typer.echo(line)


@seed_app.command("export")
def seed_export(
    directory: Annotated[
        Path | None, typer.Argument(help="Write one file per kind here; stdout if omitted.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="json or csv (csv needs DIR).")] = "json",
) -> None:
    """Write the knowledge base back out, in a stable order, in the formats `seed load` reads."""
    from app.services import knowledge
    from seed.export import write_dir

    if fmt not in ("json", "csv"):
        raise fail("--format must be json or csv", 2)
    if fmt == "csv" and directory is None:
        raise fail("--format csv needs a DIR", 2)
    docs = run_as_cli_user(knowledge.export_seed)
    if directory is None:
        typer.echo(json.dumps(docs, indent=1, sort_keys=True, ensure_ascii=False))
        return
    for path in write_dir(docs, directory, fmt):
        typer.echo(f"wrote {path}")


# ---------------------------------------------------------------------------------------------------- users


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Sign-in name.")],
    admin: Annotated[bool, typer.Option("--admin", help="Admins see every deployment and thread.")] = False,
    password: Annotated[
        str | None, typer.Option(help="Password (prompted when omitted; PREFLIGHT_NEW_PASSWORD also works).")
    ] = None,
) -> None:
    """Create a person who can sign in, and print their API token once."""
    import os

    from app.services import people

    if password is None:
        password = os.environ.get("PREFLIGHT_NEW_PASSWORD") or typer.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
    secret = password
    created = run_as_cli_user(
        lambda ctx: people.create_user(people.CreateUserRequest(name=name, password=secret, admin=admin), ctx)
    )
    token = created.token
    typer.echo(f"created {'admin' if admin else 'user'} {name}")
    typer.echo(f"API token (shown once): {token}")


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "-"


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Everyone who can sign in (or could, before being disabled), with their active token count."""
    from app.services import people

    users = run_as_cli_user(people.list_users)
    if as_json:
        echo_json([u.model_dump(mode="json") for u in users])
        return
    for u in users:
        state = f"disabled since {_when(u.disabled_at)}" if u.disabled_at else "active"
        typer.echo(f"{u.name:<24} {u.role:<6} {state:<34} {u.active_tokens} active token(s)")


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument(help="Sign-in name.")]) -> None:
    """Stop a person signing in and refuse their API tokens. Nothing is deleted (`user enable` undoes it)."""
    from app.services import people

    run_as_cli_user(lambda ctx: people.set_disabled(name, True, ctx))
    typer.echo(f"disabled {name}: sign-in and API tokens are refused")


@user_app.command("enable")
def user_enable(name: Annotated[str, typer.Argument(help="Sign-in name.")]) -> None:
    """Let a disabled person sign in again (tokens that are not revoked or expired work again)."""
    from app.services import people

    run_as_cli_user(lambda ctx: people.set_disabled(name, False, ctx))
    typer.echo(f"enabled {name}")


@user_app.command("remove")
def user_remove(
    name: Annotated[str, typer.Argument(help="Sign-in name.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a person and their API tokens; what they own stays, without an owner (admins see it)."""
    from app.services import people

    if not yes:
        typer.confirm(f"Remove {name} and their API tokens?", abort=True)
    run_as_cli_user(lambda ctx: people.remove_user(name, ctx))
    typer.echo(f"removed {name}")


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this person's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """API tokens (never their secrets): id, owner, name, state, last use, expiry."""
    from app.services import people

    tokens = run_as_cli_user(lambda ctx: people.list_tokens(ctx, user=user))
    if as_json:
        echo_json([t.model_dump(mode="json") for t in tokens])
        return
    for t in tokens:
        typer.echo(
            f"{t.id:>5}  {t.user:<20} {t.name:<16} {t.state:<8} last used {_when(t.last_used_at):<20} "
            f"expires {_when(t.expires_at)}"
        )


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="Whose token.")],
    name: Annotated[str, typer.Option("--name", help="A label, e.g. where it is used.")] = "default",
    expires_in_days: Annotated[
        float | None, typer.Option("--expires-in-days", help="Refused after this many days (default: never).")
    ] = None,
) -> None:
    """Issue an API token and print it once (only its hash is stored)."""
    from app.services import people

    # Built inside the run, so a value out of bounds is a usage error (exit 2), not a traceback.
    issued = run_as_cli_user(
        lambda ctx: people.create_token(
            people.CreateTokenRequest(name=name, expires_in_days=expires_in_days), ctx, user=user
        )
    )
    typer.echo(f"token {issued.id} for {issued.user}, expires {_when(issued.expires_at)}")
    typer.echo(f"API token (shown once): {issued.token}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="Token id (`preflight token list`).")]) -> None:
    """Revoke a token: from now on it is refused with 401."""
    from app.services import people

    view = run_as_cli_user(lambda ctx: people.revoke_token(token_id, ctx))
    typer.echo(f"revoked token {view.id} ({view.name}) of {view.user}")


# ---------------------------------------------------------------------------------------------------- data


@data_app.command("health")
def data_health_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the knowledge base: errors (exit 1) and warnings (exit 0)."""
    from app.services import knowledge

    report = run_as_cli_user(knowledge.health_report)
    if as_json:
        echo_json(report.model_dump())
    else:
        for p in report.errors:
            typer.echo(f"ERROR   {p.code}: {p.message} [{p.object}]")
        for p in report.warnings:
            typer.echo(f"warning {p.code}: {p.message} [{p.object}]")
        typer.echo(
            f"{len(report.errors)} errors, {len(report.warnings)} warnings; rows: "
            + ", ".join(f"{k}={v}" for k, v in report.counts.items())
        )
    if report.errors:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------------- areas


def _register_areas() -> None:
    """Commands owned by each area of the app (predict, extract, recommend, deploy, ...). These modules
    import only typer at the top, so registering them keeps `preflight --help` fast."""
    from app.deploy import cli as deploy_cli
    from app.intent import cli as intent_cli
    from app.observe import cli as observe_cli
    from app.planning import cli as planning_cli
    from app.planning import recommend_cli

    for module in (planning_cli, recommend_cli, intent_cli, deploy_cli, observe_cli):
        module.register(app)


_register_areas()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
