"""Input bounds shared by the service requests: bounded NUL-free text and finite numbers.

A value beyond a bound is a pydantic error on the request (422 / exit 2) that names the field and the bound;
Postgres never sees a NUL byte or an infinite number.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

from app.errors import Invalid

TEXT_MAX = 4000
NAME_MAX = 120


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL (\\u0000) characters")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number (not Infinity or NaN)")
    return value


# Free text from a person (a request in words, a chat message).
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX), AfterValidator(_no_nul)]
# A short label (scenario names, deployment names).
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), AfterValidator(_no_nul)]
FiniteFloat = Annotated[float, AfterValidator(_finite), Field(allow_inf_nan=False)]


def check_no_nul_anywhere(value: Any, where: str = "body") -> None:
    """Raise Invalid when a string anywhere in a JSON-like value carries a NUL (free-form dicts)."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise Invalid(f"{path}: text must not contain NUL (\\u0000) characters")
        elif isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str) and "\x00" in k:
                    raise Invalid(f"{path}: keys must not contain NUL (\\u0000) characters")
                stack.append((v, f"{path}.{k}"))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            raise Invalid(f"{path}: must be a finite number (not Infinity or NaN)")
