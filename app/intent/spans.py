"""What the rules and the grammar share: the value builder (bounds checked per value) and text windows."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from app.intent.schema import DeploymentIntent

N = r"(\d+(?:\.\d+)?)"


def num(s: str) -> float:
    return float(s)


def window_before(t: str, pos: int, size: int = 60, stop: str = ".;!?\n") -> str:
    start = max(0, pos - size)
    w = t[start:pos]
    cut = max(w.rfind(c) for c in stop)
    return w[cut + 1 :] if cut >= 0 else w


def window_after(t: str, pos: int, size: int = 30, stop: str = ".;!?,\n") -> str:
    w = t[pos : pos + size]
    cuts = [i for i in (w.find(c) for c in stop) if i >= 0]
    # A period inside a number ('0.5') is not a sentence end.
    cuts = [i for i in cuts if not (w[i] == "." and i + 1 < len(w) and w[i + 1].isdigit())]
    w = w[: min(cuts)] if cuts else w
    return re.split(r"\band\b|\bbut\b", w)[0]


_SENTENCE_REACH = 400  # a 'sentence' longer than this either side is cut: rules only look near a match


def sentence(t: str, pos: int) -> str:
    """The sentence around ``pos`` (a period inside a number such as '0.5' does not end it).

    Bounded to a window around ``pos`` so that calling it for every match stays linear in the text length.
    """
    lo = max(0, pos - _SENTENCE_REACH)
    hi = min(len(t), pos + _SENTENCE_REACH)
    start = max(t.rfind(c, lo, pos) for c in ".;!?\n") + 1
    start = max(start, lo)
    ends = [i for i in (t.find(c, pos, hi) for c in ";!?\n") if i >= 0]
    dot = pos
    while True:
        dot = t.find(".", dot, hi)
        if dot < 0 or not (dot + 1 < len(t) and t[dot + 1].isdigit()):
            break
        dot += 1
    if dot >= 0:
        ends.append(dot)
    return t[start : min(ends) if ends else hi]


class Builder:
    """Collects field values, checking each against the schema's bounds as it goes."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.sources: list[str] = []  # the words each value came from: their numbers are bound
        self.ambiguous: dict[str, tuple[str, ...]] = {}  # fields the text leaves open between candidates

    def set(self, path: str, value: Any, source: str, *, overwrite: bool = False) -> None:
        keys = path.split(".")
        target = self.data
        for k in keys[:-1]:
            target = target.setdefault(k, {})
        if keys[-1] in target and not overwrite:
            return
        trial = dict(target)
        trial[keys[-1]] = value
        probe = dict(self.data)
        if len(keys) == 2:
            probe[keys[0]] = trial
        else:
            probe = trial
        try:
            DeploymentIntent.model_validate(probe)
        except ValidationError as e:
            msg = e.errors()[0].get("msg", "invalid")
            self.warnings.append(f"ignored {path}={value!r} from {source.strip()!r}: {msg}")
            return
        target[keys[-1]] = value
        self.sources.append(source)


def blank(t: str, m: re.Match[str], extra: int = 0) -> str:
    """``t`` with the match (and ``extra`` characters after it) replaced by spaces, positions kept."""
    end = m.end() + extra
    return t[: m.start()] + " " * (end - m.start()) + t[end:]
