"""What every `preflight` command shares: running a coroutine with clear failures, and output helpers.

Exit codes come from the error's kind (:data:`app.errors.EXIT_CODES`): 0 done; 1 the operation failed
(not found, forbidden, conflict); 2 bad input or usage; 3 the database (or another service Preflight depends
on) is unreachable or busy; 130 interrupted. A traceback never reaches the person.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer

T = TypeVar("T")


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
    from app.errors import validation_text

    return f"invalid {what}: " + validation_text(e, limit=20)


def run_async(
    fn: Callable[[], Awaitable[T]],
    *,
    interrupted: str = "interrupted",
    validation_what: str = "input",
) -> T:
    """Run a command's coroutine; an error with a kind becomes its message and the kind's exit code."""
    from pydantic import ValidationError

    from app.errors import PreflightError, exit_code, public_message
    from db.session import dispose_engine

    async def wrapper() -> T:
        try:
            return await fn()
        finally:
            await dispose_engine()

    try:
        return asyncio.run(wrapper())
    except CliError as e:
        raise fail(str(e), e.code) from e
    except PreflightError as e:
        raise fail(public_message(e), exit_code(e)) from e
    except ValidationError as e:
        raise fail(validation_message(e, validation_what), 2) from e
    except KeyboardInterrupt as e:
        raise fail(interrupted, 130) from e


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
