"""The one error hierarchy: every failure a person can cause or fix has a *kind*, and each kind is mapped
once, here, to a CLI exit code, an HTTP status (with ``Retry-After`` where waiting helps) and a chat message.

Area errors subclass a kind (``class DeploymentNotFoundError(NotFound, DeploymentError)``), so adapters never
keep their own tables of exception types. A pydantic ``ValidationError`` is ``invalid``; anything without a
kind is a bug: the adapters log it with its traceback and show a generic message.

This module imports nothing from Preflight, so every layer (domain included) may use it.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, ClassVar, Literal

Kind = Literal[
    "unauthenticated", "not_found", "forbidden", "invalid", "conflict", "unavailable", "rate_limited"
]


class PreflightError(Exception):
    """Base of every error with a kind. The message says what happened and what to do."""

    kind: ClassVar[Kind] = "invalid"
    default_retry_after_s: ClassVar[float | None] = None
    # What the person can do about this family of errors, added to the chat message (optional).
    hint: ClassVar[str | None] = None

    def __init__(self, message: str = "", *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s if retry_after_s is not None else self.default_retry_after_s


class Unauthenticated(PreflightError):
    """No valid credential came with the request (no token, an unknown, expired or revoked one)."""

    kind: ClassVar[Kind] = "unauthenticated"


class NotFound(PreflightError):
    """It does not exist, or the caller may not see it (the two read the same, so ids cannot be probed)."""

    kind: ClassVar[Kind] = "not_found"


class Forbidden(PreflightError):
    """The caller is known but may not do this (an admin-only option, a foreign endpoint)."""

    kind: ClassVar[Kind] = "forbidden"


class Invalid(PreflightError):
    """The input is out of bounds or inconsistent; the message names the field and the bound."""

    kind: ClassVar[Kind] = "invalid"


class Conflict(PreflightError):
    """The input is fine but the current state forbids it (a name taken, a deployment busy)."""

    kind: ClassVar[Kind] = "conflict"


class Unavailable(PreflightError):
    """Something Preflight depends on (database, cluster, worker pool) cannot answer now; retrying helps."""

    kind: ClassVar[Kind] = "unavailable"
    default_retry_after_s = 5.0


class RateLimited(PreflightError):
    """Too many requests from this caller or in total; retry after ``retry_after_s``."""

    kind: ClassVar[Kind] = "rate_limited"
    default_retry_after_s = 2.0


# --- the mappings (the only tables) ----------------------------------------------------------------------

# CLI: 1 the operation failed; 2 bad input; 3 a dependency is unreachable or busy (retry later).
EXIT_CODES: dict[Kind, int] = {
    "unauthenticated": 1,
    "not_found": 1,
    "forbidden": 1,
    "conflict": 1,
    "invalid": 2,
    "unavailable": 3,
    "rate_limited": 3,
}

HTTP_STATUS: dict[Kind, int] = {
    "unauthenticated": 401,
    "not_found": 404,
    "forbidden": 403,
    "invalid": 422,
    "conflict": 409,
    "unavailable": 503,
    "rate_limited": 429,
}

# {line}: the error's first line; {Line}: the same capitalised.
CHAT_MESSAGES: dict[Kind, str] = {
    "unauthenticated": "⚠️ {Line}. Please sign in again.",
    "not_found": "⚠️ {Line}. It may belong to someone else or have been deleted.",
    "forbidden": "⚠️ {Line}. Ask an administrator if you need this.",
    "invalid": "⚠️ {Line}. Nothing was changed; try again with a value inside the limits.",
    "conflict": "⚠️ {Line}.",
    "unavailable": "⚠️ {Line}. Your conversation is safe; wait a moment and send the message again.",
    "rate_limited": "⚠️ I am busy right now ({line}). Please send that again in a few seconds.",
}
CHAT_UNEXPECTED = (
    "⚠️ Something went wrong on my side and I could not finish that. Nothing you entered was lost; "
    "please try again. If it keeps happening, an administrator can find the details in the server log."
)


def kind_of(e: BaseException) -> Kind | None:
    """The kind of ``e``, or None for a bug."""
    if isinstance(e, PreflightError):
        return e.kind
    from pydantic import ValidationError

    if isinstance(e, ValidationError):
        return "invalid"
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return "unavailable"
    return None


def format_errors(errors: list[Any], limit: int = 5) -> str:
    """Pydantic error entries as ``field: message; field: message`` — the one rendering of validation
    errors (API, CLI, chat, wrapped messages). Never echoes the input, never links to pydantic's docs."""
    parts = []
    for err in errors[:limit]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("__root__", "body")) or "value"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        parts.append(f"{loc}: {msg[:300]}")
    more = len(errors) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def validation_text(e: BaseException, limit: int = 5) -> str:
    """A pydantic ValidationError (or FastAPI's RequestValidationError) as ``field: message; ...``."""
    errors = getattr(e, "errors", None)
    if not callable(errors):
        return first_line(e)
    try:
        entries = errors(include_input=False)
    except TypeError:  # RequestValidationError.errors() takes no arguments
        entries = errors()
    return format_errors(list(entries), limit)


def describe(e: BaseException) -> str:
    """An exception's text for a message that wraps it: validation errors rendered as above, else str(e)."""
    from pydantic import ValidationError

    return validation_text(e) if isinstance(e, ValidationError) else str(e)


def first_line(e: BaseException, limit: int = 400) -> str:
    """The first line of an error's message, shortened, without a trailing period."""
    from pydantic import ValidationError

    if isinstance(e, ValidationError):
        return "invalid input: " + validation_text(e)
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return text[:limit].rstrip(".")


def public_message(e: BaseException) -> str:
    """What an adapter shows: the whole message for errors with a kind (they are written for people)."""
    from pydantic import ValidationError

    if isinstance(e, ValidationError):
        return "invalid input: " + validation_text(e)
    text = str(e).strip() or type(e).__name__
    return text[:4000]


def http_body(e: BaseException | None, message: str | None = None) -> dict[str, Any]:
    """The one JSON error body: ``{"error": message, "kind": kind}`` (kind null for a bug, whose message
    is generic). Every HTTP error answer has this shape, middleware and sign-in included."""
    if e is None:
        return {"error": message or "internal error; the server log has the details", "kind": None}
    return {"error": message if message is not None else public_message(e), "kind": kind_of(e)}


def kind_for_status(status: int) -> Kind | None:
    """The kind an HTTP status stands for (for errors raised as bare statuses by libraries)."""
    return next((k for k, v in HTTP_STATUS.items() if v == status), None)


def exit_code(e: BaseException) -> int:
    kind = kind_of(e)
    return EXIT_CODES[kind] if kind else 1


def http_status(e: BaseException) -> int:
    kind = kind_of(e)
    return HTTP_STATUS[kind] if kind else 500


def retry_after(e: BaseException) -> int | None:
    """Seconds for a ``Retry-After`` header (whole, at least 1), for the kinds where waiting helps."""
    kind = kind_of(e)
    if kind not in ("unavailable", "rate_limited"):
        return None
    seconds = getattr(e, "retry_after_s", None) or 5.0
    return max(1, math.ceil(seconds))


def chat_message(e: BaseException) -> str:
    """A person-facing chat message for ``e``; never a traceback."""
    kind = kind_of(e)
    if kind is None:
        return CHAT_UNEXPECTED
    from pydantic import ValidationError

    # Field names as words in the chat ("target ttft p90 ms"), and what the limits say.
    line = (
        "that value is out of range: " + validation_text(e).replace("_", " ")
        if isinstance(e, ValidationError)
        else first_line(e)
    )
    text = CHAT_MESSAGES[kind].format(line=line, Line=line[:1].upper() + line[1:])
    hint = getattr(e, "hint", None)
    return f"{text} {hint}" if hint else text
