"""What every `preflight` command shares: running a coroutine with clear failures, and output helpers.

Exit codes come from the error's kind (:data:`app.errors.EXIT_CODES`): 0 done; 1 the operation failed
(not found, forbidden, conflict); 2 bad input or usage; 3 the database (or another service Preflight depends
on) is unreachable or busy; 130 interrupted. A traceback never reaches the person.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
import typer

if TYPE_CHECKING:
    from app.auth import Principal
    from app.services.context import Context

T = TypeVar("T")

# The person every command acts as: the root option `preflight --user NAME` (or PREFLIGHT_USER); None: the
# local operator (`system`, an administrator). Set once per process by the root callback.
_acting_user: str | None = None


def set_acting_user(name: str | None) -> None:
    global _acting_user
    _acting_user = name or None


async def cli_principal(user: str | None = None) -> Principal:
    """The one way a command gets its principal: ``user`` (a command's own ``--user``), else the root
    ``--user`` / PREFLIGHT_USER, else the operator. Acting for a person goes through
    :func:`app.services.people.act_as`, so the services then enforce that person's ownership and limits."""
    from app.auth import Principal
    from app.services import people
    from app.services.context import unit_of_work

    name = user or _acting_user
    if name is None:
        return Principal.system()
    async with unit_of_work(Principal.system()) as ctx:
        return await people.act_as(name, ctx)


@asynccontextmanager
async def cli_context(user: str | None = None) -> AsyncIterator[Context]:
    """A unit of work for the command's principal (see :func:`cli_principal`)."""
    from app.services.context import unit_of_work

    principal = await cli_principal(user)
    async with unit_of_work(principal) as ctx:
        yield ctx


def run_as_cli_user(fn: Callable[[Context], Awaitable[T]], **run_options: Any) -> T:
    """Run one service call in :func:`cli_context`, with :func:`run_async`'s error handling."""

    async def go() -> T:
        async with cli_context() as ctx:
            return await fn(ctx)

    return run_async(go, **run_options)


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
    from db.session import as_unavailable, dispose_engine

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
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise  # a command's own exit or usage error, already worded
    except Exception as e:  # a bug: its one traceback goes to the log, then one clear line and exit 1
        down = as_unavailable(e)
        if down is not None:
            raise fail(public_message(down), exit_code(down)) from e
        logging.getLogger("app.cli").error("unexpected error", exc_info=e)
        raise fail(UNEXPECTED, 1) from e


UNEXPECTED = (
    "Preflight hit an unexpected error and stopped. This is a bug, not something you did: please report it "
    "with the traceback above"
)


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
