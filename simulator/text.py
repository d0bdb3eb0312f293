"""Deterministic, plausible response text, and prompt token counting.

Text is built from small per-use-case vocabularies by a seeded generator, one "token" (a short piece with
its leading space) at a time, so that every streamed chunk is one token and `usage.completion_tokens` equals
the number of chunks.

Prompt tokens are counted with a Hugging Face `tokenizer.json` (the `tokenizers` package) when one is
configured; otherwise with an approximation of Llama-3-style BPE: every run of letters or digits counts one
token per started 5 characters, every other non-space character counts one token. That lands within about
15% of real tokenizers on English prose and code.
"""

from __future__ import annotations

import logging
import random
import re
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

UseCase = Literal["code", "chat", "summary", "answer"]

_WORD_RE = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]")

# Chat templates add a few tokens per message (role header, separators), as in Llama-3's template.
CHAT_TOKENS_PER_MESSAGE = 4
CHAT_TOKENS_PER_CONVERSATION = 3


class TokenCounter:
    """Counts prompt tokens with a real tokenizer when available, else with the documented approximation."""

    def __init__(self, tokenizer_path: str | None = None) -> None:
        self._tokenizer = None
        self.kind = "approximate (letters/digits: 1 token per 5 chars; other symbols: 1 each)"
        if tokenizer_path:
            try:
                from tokenizers import Tokenizer

                self._tokenizer = Tokenizer.from_file(str(Path(tokenizer_path)))
                self.kind = f"tokenizers ({tokenizer_path})"
            except Exception as e:  # the tokenizers library raises plain Exception subclasses
                raise ValueError(f"cannot load tokenizer {tokenizer_path}: {e}; fix or unset the path") from e
        logger.info("prompt token counting: %s", self.kind)

    def count(self, text: str) -> int:
        if self._tokenizer is not None:
            return len(self._tokenizer.encode(text, add_special_tokens=False).ids)
        return approximate_tokens(text)


def approximate_tokens(text: str) -> int:
    n = 0
    for piece in _WORD_RE.findall(text):
        n += (len(piece) + 4) // 5 if piece[0].isalnum() else 1
    return n


_VOCAB_TEXT: dict[UseCase, str] = {
    "chat": (
        "I think that sounds like a good plan . You could also try it with a friend , and it often helps "
        "to start small . Let me know how it goes ! Honestly , the most important thing is to keep going "
        "and enjoy the process . Many people find that a short daily habit works better than long sessions "
        "once a week . If you want , I can suggest a few ideas to get started"
    ),
    "answer": (
        "The short answer is yes , but it depends on the context . In most cases the main factor is the "
        "size of the input , because the cost grows with it . For example , a larger batch increases "
        "throughput while each request waits longer . This is why systems usually set a limit and measure "
        "latency at the tail rather than the mean . In practice , you should test with realistic traffic"
    ),
    "summary": (
        "In summary , the document describes three main points . First , the team reviewed the current "
        "design and its limits . Second , they proposed a change that reduces cost without hurting "
        "latency . Third , they agreed to measure the result over the next quarter . Overall , the "
        "outcome is positive and the risks are small"
    ),
    "code": (
        "def process ( items : list [ int ] ) -> int : \n total = 0 \n for item in items : \n if item > 0 : "
        "\n total += item \n return total \n class Cache : \n def __init__ ( self , size : int ) -> None : "
        "\n self . size = size \n self . data = { } \n def get ( self , key ) : \n "
        "return self . data . get ( key )"
    ),
}
# Words are separated by single spaces; code keeps "\n" as its own token so lines break.
_VOCAB: dict[UseCase, list[str]] = {uc: [w for w in text.split(" ") if w] for uc, text in _VOCAB_TEXT.items()}
_NATURAL_LENGTH: dict[UseCase, tuple[int, int]] = {
    "chat": (40, 220),
    "answer": (30, 180),
    "summary": (50, 160),
    "code": (80, 400),
}
_CODE_HINTS = ("code", "function", "python", "def ", "class ", "program", "script", "sql", "bug", "```")
_SUMMARY_HINTS = ("summar", "tl;dr", "tldr", "key points", "condense")


def detect_use_case(prompt: str) -> UseCase:
    head = prompt[-2000:].lower()
    if any(h in head for h in _CODE_HINTS):
        return "code"
    if any(h in head for h in _SUMMARY_HINTS):
        return "summary"
    if "?" in head or head.lstrip().startswith(("what", "how", "why", "when", "who", "which")):
        return "answer"
    return "chat"


def natural_length(use_case: UseCase, rng: random.Random) -> int:
    lo, hi = _NATURAL_LENGTH[use_case]
    return rng.randint(lo, hi)


def _sentence_starts(vocab: list[str]) -> list[int]:
    return [0] + [i + 1 for i, w in enumerate(vocab[:-1]) if w in {".", "!", "?"} or w.startswith("\n")]


_STARTS: dict[UseCase, list[int]] = {uc: _sentence_starts(v) for uc, v in _VOCAB.items()}


def generate_tokens(use_case: UseCase, count: int, rng: random.Random) -> list[str]:
    """`count` non-empty token strings that read like text of the use case.

    The generator walks the use case's vocabulary in order and, at the end of a sentence, jumps to a
    random sentence start, so the text reads naturally and still varies with the seed.
    """
    vocab = _VOCAB[use_case]
    starts = _STARTS[use_case]
    n = len(vocab)
    pos = rng.choice(starts)
    out: list[str] = []
    for _ in range(count):
        word = vocab[pos]
        if use_case == "code":
            out.append(word if word.startswith("\n") or not out else " " + word)
        else:
            out.append(word if word in {".", ",", "!", "?"} or not out else " " + word)
        ends_sentence = word in {".", "!", "?"} or word.startswith("\n")
        pos = rng.choice(starts) if ends_sentence and rng.random() < 0.5 else (pos + 1) % n
    return out


def apply_stop(tokens: list[str], stop: list[str]) -> tuple[list[str], bool]:
    """Cut the tokens before the earliest stop string (excluded from the output, as vLLM does)."""
    if not stop or not tokens:
        return tokens, False
    text = "".join(tokens)
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    if cut < 0:
        return tokens, False
    kept: list[str] = []
    end = 0
    for t in tokens:
        if end + len(t) <= cut:
            kept.append(t)
            end += len(t)
            continue
        partial = t[: cut - end]
        if partial:
            kept.append(partial)
        break
    return kept, True
