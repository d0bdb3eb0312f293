"""What every `preflight` command shares: running a coroutine with clear failures, and output helpers.

Exit codes: 0 done; 1 the operation failed (the message says why); 2 bad input or usage; 3 the database
(or another service Preflight depends on) is unreachable or busy; 130 interrupted. A traceback never
reaches the person.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import typer

T = TypeVar("T")
ErrorMap = Sequence[tuple[tuple[type[BaseException], ...], int]]


class CliError(Exception):
    """An error to show as one line, with an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def validation_message(e: Any, what: str = "input") -> str:
    """A pydantic ValidationError as one line: `field: reason; field: reason`."""
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "__root__") or what
        parts.append(f"{loc}: {err.get('msg')}")
    return f"invalid {what}: " + "; ".join(parts)


def run_async(
    fn: Callable[[], Awaitable[T]],
    *,
    errors: ErrorMap = (),
    interrupted: str = "interrupted",
    validation_what: str = "input",
) -> T:
    """Run a command's coroutine. ``errors`` maps the area's own exception types to exit codes."""
    from pydantic import ValidationError

    from db.embedded import EmbeddedDatabaseError
    from db.session import DatabaseUnavailableError, dispose_engine

    async def wrapper() -> T:
        try:
            return await fn()
        finally:
            await dispose_engine()

    try:
        return asyncio.run(wrapper())
    except CliError as e:
        raise fail(str(e), e.code) from e
    except (DatabaseUnavailableError, EmbeddedDatabaseError) as e:
        raise fail(str(e), 3) from e
    except ValidationError as e:
        raise fail(validation_message(e, validation_what), 2) from e
    except KeyboardInterrupt as e:
        raise fail(interrupted, 130) from e
    except Exception as e:
        for types, code in errors:
            if isinstance(e, types):
                raise fail(str(e).strip("'\""), code) from e
        raise


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
