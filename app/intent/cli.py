"""`preflight extract`: read a request into a DeploymentIntent (or a Specification) from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer


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
    database), merged with an LLM when PREFLIGHT_LLM_BASE_URL is set."""
    from app.intent.examples import bundled_index
    from app.intent.llm import extract_with_llm, understand_text

    examples = bundled_index()

    if jsonl is not None:
        for n, line in enumerate(jsonl.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                message = item["text"] if isinstance(item, dict) else None
                if not isinstance(message, str):
                    raise KeyError("text")
            except (json.JSONDecodeError, KeyError) as e:
                typer.echo(f"error: {jsonl}:{n}: expected a JSON object with a string 'text' ({e})", err=True)
                raise typer.Exit(2) from e
            intent, _path = extract_with_llm(message, examples=examples)
            sys.stdout.write(json.dumps(intent.stated(), ensure_ascii=False) + "\n")
        return
    if text is None:
        typer.echo("error: give TEXT or --jsonl FILE", err=True)
        raise typer.Exit(2)

    intent, path, extraction = understand_text(text, examples=examples)
    for warning in extraction.warnings:
        typer.echo(f"note: {warning}", err=True)
    for field, candidates in extraction.uncertain.items():
        typer.echo(f"note: {field} is unclear: {' or '.join(candidates)}?", err=True)
    if extraction.unused_numbers:
        unused = ", ".join(f"{n:g}" for n in extraction.unused_numbers)
        typer.echo(f"note: numbers not used by any field: {unused}", err=True)
    if resolve:
        from app.intent.usecases import TemplateNotFound, apply_template, template_for_task

        try:
            spec = apply_template(intent, template_for_task(intent.task_type))
        except TemplateNotFound as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e
        if as_json:
            typer.echo(spec.model_dump_json(indent=2))
            return
        typer.echo(f"Specification (template: {spec.template_id}; extracted by {path})")
        for name in spec.editable_fields():
            value = getattr(spec, name)
            if value is None or value == []:
                continue
            note = spec.notes.get(name)
            typer.echo(
                f"  {name:28s} {value!s:32s} [{spec.origins.get(name, '-')}]" + (f"  {note}" if note else "")
            )
        return
    data = intent.stated()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if not data:
        typer.echo("Nothing recognised. Try: 'a chatbot for 1000 users, low latency is critical'.")
        return
    typer.echo(f"Extracted by {path}:")
    for key, value in data.items():
        typer.echo(f"  {key:28s} {json.dumps(value, ensure_ascii=False)}")


def main() -> None:  # `python -m app.intent.cli` until the lead wires register() into app/cli.py
    app = typer.Typer(add_completion=False)
    register(app)

    @app.callback()
    def _root() -> None:
        """Preflight intent tools."""

    app()


if __name__ == "__main__":
    main()
