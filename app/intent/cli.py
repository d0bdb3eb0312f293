"""`preflight extract`: read a request into a DeploymentIntent (or a Specification) from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from app.errors import PreflightError, exit_code

if TYPE_CHECKING:
    from app.intent.schema import Specification


def register(app: typer.Typer) -> None:
    app.command("extract")(extract_command)


def extract_command(
    text: str = typer.Argument(None, help="The request, e.g. 'a chatbot for 1000 users, low latency'."),
    as_json: bool = typer.Option(False, "--json", help="Print the intent as JSON."),
    jsonl: Path = typer.Option(
        None,
        "--jsonl",
        exists=True,
        dir_okay=False,
        readable=True,
        help='File of {"text": ...} lines; prints one DeploymentIntent JSON per line, in order.',
    ),
    resolve: bool = typer.Option(
        False, "--resolve", help="Print the resolved Specification (template defaults marked) instead."
    ),
) -> None:
    """Extract what a request states: rules, quantity grammar and the bundled labelled examples (no
    database), merged with an LLM when PREFLIGHT_LLM_BASE_URL is set. With --resolve, the specification the
    chat and the API would build (the closest use-case template comes from the database)."""
    from app.cli_support import CliError, cli_context, run_async
    from app.intent.examples import bundled_index
    from app.services import specify

    if jsonl is None and text is None:
        typer.echo("error: give TEXT or --jsonl FILE", err=True)
        raise typer.Exit(2)

    if jsonl is not None:
        messages = _jsonl_messages(jsonl)

        async def batch() -> None:
            index = bundled_index()
            for n, message in messages:
                try:
                    understood = await specify.understand(message, example_index=index)
                except PreflightError as e:
                    raise CliError(f"{jsonl}:{n}: {e}", exit_code(e)) from e
                sys.stdout.write(json.dumps(understood.intent.stated(), ensure_ascii=False) + "\n")

        run_async(batch)
        return

    async def one() -> tuple[specify.Understanding, Specification | None]:
        if not resolve:
            return await specify.understand(text, example_index=bundled_index()), None
        async with cli_context() as ctx:
            understood = await specify.understand(text, ctx=ctx)
            return understood, await specify.specify(understood.intent, ctx)

    understood, spec = run_async(one)
    for warning in understood.warnings:
        typer.echo(f"note: {warning}", err=True)
    for field, candidates in understood.uncertain.items():
        typer.echo(f"note: {field} is unclear: {' or '.join(candidates)}?", err=True)
    if spec is not None:
        if as_json:
            typer.echo(spec.model_dump_json(indent=2))
            return
        typer.echo(f"Specification (template: {spec.template_id}; extracted by {understood.extracted_by})")
        for name in spec.editable_fields():
            value = getattr(spec, name)
            if value is None or value == []:
                continue
            note = spec.notes.get(name)
            typer.echo(
                f"  {name:28s} {value!s:32s} [{spec.origins.get(name, '-')}]" + (f"  {note}" if note else "")
            )
        return
    data = understood.intent.stated()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not data:
        typer.echo("Nothing recognised. Try: 'a chatbot for 1000 users, low latency is critical'.")
        return
    typer.echo(f"Extracted by {understood.extracted_by}:")
    for key, value in data.items():
        typer.echo(f"  {key:28s} {json.dumps(value, ensure_ascii=False)}")


def _jsonl_messages(path: Path) -> list[tuple[int, str]]:
    """The ``text`` of each non-empty line, with its line number; a malformed line is a usage error."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            message = item["text"] if isinstance(item, dict) else None
            if not isinstance(message, str):
                raise KeyError("text")
        except (json.JSONDecodeError, KeyError) as e:
            typer.echo(f"error: {path}:{n}: expected a JSON object with a string 'text' ({e})", err=True)
            raise typer.Exit(2) from e
        out.append((n, message))
    return out


def main() -> None:  # `python -m app.intent.cli` until the lead wires register() into app/cli.py
    app = typer.Typer(add_completion=False)
    register(app)

    @app.callback()
    def _root() -> None:
        """Preflight intent tools."""

    app()


if __name__ == "__main__":
    main()
