"""``re.search`` with a literal pre-check, so long messages do not pay for every cue pattern.

The offline rules search the whole message with dozens of alternations of cue phrases. Python's regex engine
tries every alternative at every position, so a 20 KB message that contains none of them still costs about a
millisecond per pattern. Most cue patterns are alternations of phrases that start with literal text
('summar\\w*|tl;?dr|\\bdigests?\\b'), and a match must contain one of those literal starts. :func:`anchors`
reads them from the pattern source, and :func:`search` runs the regex only when one of them occurs in the
text, and only at the places where they occur (a scan for plain literals is far faster than trying the
alternation everywhere). Patterns whose alternatives do not all start with literal text get no anchors and
are searched as usual, so the result is always the same as ``re.search``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_QUANTIFIERS = ("?", "*", "{")
_LITERAL = re.compile(r"[a-z0-9 '&;:%<>=/,~@#-]")


def _split_top(pattern: str) -> list[str] | None:
    """The top-level alternatives of ``pattern``; None if its brackets do not balance."""
    parts: list[str] = []
    depth = 0
    in_class = False
    start = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":  # a ']' right after '[' is a literal
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return None
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    if depth != 0 or in_class:
        return None
    parts.append(pattern[start:])
    return parts


def _group_end(pattern: str, open_at: int) -> int | None:
    """Index just past the ')' that closes the '(' at ``open_at``."""
    depth = 0
    in_class = False
    i = open_at
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _alternative_anchors(alt: str) -> set[str] | None:
    """Literal strings one of which every match of the (group-free at top level) ``alt`` starts with."""
    pos = 0
    # Zero-width assertions at the start do not consume text: skip them.
    while True:
        if alt.startswith(("\\b", "^"), pos):
            pos += 2 if alt.startswith("\\b", pos) else 1
            continue
        if alt.startswith(("(?<!", "(?<=", "(?!", "(?="), pos):
            end = _group_end(alt, pos)
            if end is None:
                return None
            pos = end
            continue
        break
    if alt.startswith("(", pos):
        end = _group_end(alt, pos)
        if end is None or alt[end : end + 1] in _QUANTIFIERS:
            return None
        inner_start = pos + (3 if alt.startswith("(?:", pos) else 1)
        if alt.startswith("(?", pos) and not alt.startswith("(?:", pos):
            return None  # a named group or an inline flag: not worth understanding here
        return _pattern_anchors(alt[inner_start : end - 1])
    run = []
    while pos < len(alt) and _LITERAL.fullmatch(alt[pos]):
        run.append(alt[pos])
        pos += 1
    if run and alt[pos : pos + 1] in _QUANTIFIERS:
        run.pop()  # the last literal is optional ('docs?')
    literal = "".join(run).rstrip()
    return {literal} if len(literal) >= 2 else None


def _pattern_anchors(pattern: str) -> set[str] | None:
    parts = _split_top(pattern)
    if parts is None:
        return None
    out: set[str] = set()
    for part in parts:
        found = _alternative_anchors(part)
        if found is None:
            return None
        out |= found
    return out


@lru_cache(maxsize=2048)
def anchors(pattern: str) -> tuple[str, ...] | None:
    """Literal strings one of which every match of ``pattern`` contains; None when not derivable."""
    found = _pattern_anchors(pattern)
    return tuple(sorted(found)) if found else None


@dataclass(frozen=True)
class _Compiled:
    regex: re.Pattern[str]
    anchors: tuple[str, ...] | None
    literal_re: re.Pattern[str] | None  # an alternation of the anchors


@lru_cache(maxsize=2048)
def _compiled(pattern: str) -> _Compiled:
    found = anchors(pattern)
    if found is None:
        return _Compiled(re.compile(pattern), None, None)
    # An alternation of plain literals: the engine scans for it with a fast first-character test.
    literal_re = re.compile("|".join(re.escape(a) for a in sorted(found, key=len, reverse=True)))
    return _Compiled(re.compile(pattern), found, literal_re)


_SHORT = 200  # shorter texts are searched directly once an anchor is known to occur
_MAX_TRIES = 256  # after this many anchor hits without a match, one plain scan is cheaper


def search(pattern: str | re.Pattern[str], text: str) -> re.Match[str] | None:
    """Same result as ``re.search(pattern, text)``, found by trying the regex only where an anchor occurs.

    Every match starts with one of the pattern's anchors, so trying ``regex.match`` at each anchor
    occurrence, left to right, finds the leftmost match, exactly as ``re.search`` does.
    """
    c = _compiled(pattern if isinstance(pattern, str) else pattern.pattern)
    if c.anchors is None or c.literal_re is None:
        return c.regex.search(text)
    if len(text) <= _SHORT:
        return c.regex.search(text) if any(a in text for a in c.anchors) else None
    pos = 0
    for _ in range(_MAX_TRIES):
        hit = c.literal_re.search(text, pos)
        if hit is None:
            return None
        m = c.regex.match(text, hit.start())
        if m is not None:
            return m
        pos = hit.start() + 1  # anchors may overlap ('latency' / 'latencies'): step one character
    return c.regex.search(text, pos)
