"""Model and GPU mentions are found by first-characters dispatch; results match one big alternation."""

from __future__ import annotations

import re

import pytest

from app.intent.vocabulary import GPU_ALIASES, Vocabulary, _alias_pattern, default_vocabulary

pytestmark = pytest.mark.unit


def _reference(vocab_patterns: list[tuple[str, str]], text: str) -> list[tuple[str, int, int]]:
    """The previous implementation: one alternation, longest pattern first."""
    unique: dict[str, str] = {}
    for pattern, target in vocab_patterns:
        unique.setdefault(pattern, target)
    ordered = sorted(unique.items(), key=lambda kv: -len(kv[0]))
    body = "|".join(f"({p})" for p, _ in ordered)
    rx = re.compile(rf"(?<![a-z0-9])(?:{body})(?:s|'s)?(?![a-z0-9])")
    return [(ordered[m.lastindex - 1][1], m.start(), m.end()) for m in rx.finditer(text) if m.lastindex]


@pytest.mark.parametrize(
    "text",
    [
        "we own 8 h100s and 4 a100 40gb, not l4 or t4; maybe h100 pcie",
        "gh200 144gb vs gh200, mi300x, b200 192gb, l40s and l40",
        "a100-80gb, a100 80, H100 SXM5, nvidia l4",
    ],
)
def test_gpu_mentions_match_the_single_alternation(text: str) -> None:
    patterns = [(_alias_pattern(a), gid) for gid, als in GPU_ALIASES.items() for a in [gid, *als]]
    vocab = Vocabulary.build([], GPU_ALIASES)
    assert vocab.find_gpus(text) == _reference(patterns, text.lower())


def test_models_found_in_a_long_message() -> None:
    # How fast: benchmarks/text_speed.py (no wall-clock assertions in tests).
    vocab = default_vocabulary()
    text = "lorem ipsum dolor sit amet " * 700 + "we want Llama 3.1 8B on H100s"
    models = vocab.find_models(text)
    gpus = vocab.find_gpus(text)
    if vocab.models:  # the catalog may be absent on a fresh checkout
        assert [m[0] for m in models] == ["meta-llama/Llama-3.1-8B-Instruct"]
    assert [g[0] for g in gpus] == ["H100-SXM-80GB"]
