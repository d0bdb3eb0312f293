"""Deterministic offline extractor: a person's words -> :class:`DeploymentIntent`, with no model.

It sets a field only when the text states it or clearly implies it; defaults come later from the use-case
template. The text is normalised first (lower case, misspellings of key words fixed, number words turned into
digits, '10k' / '1,000' / '1.5 million' / '10^12' turned into plain numbers, model and GPU names replaced by
placeholders), then small focused rules read each field. A value outside the schema's bounds is dropped with
a warning, never clamped.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from app.intent.fastsearch import search as fast_search
from app.intent.multilingual import to_english
from app.intent.quantities import batch, people, price_class
from app.intent.schema import DeploymentIntent
from app.intent.vocabulary import Vocabulary, default_vocabulary

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 50_000
N = r"(\d+(?:\.\d+)?)"


@dataclass
class Extraction:
    """What the extractor found: the intent, warnings for the person, and the numbers they typed.

    ``unused_numbers`` are the typed numbers no field took (nothing is dropped silently); ``votes`` are the
    classifier's verdicts per categorical field and ``uncertain`` the fields whose examples disagree (the
    candidates, best first), which the clarifying questions offer.
    """

    intent: DeploymentIntent
    warnings: list[str] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    normalized_text: str = ""
    unused_numbers: list[float] = field(default_factory=list)
    votes: dict[str, Any] = field(default_factory=dict)
    uncertain: dict[str, tuple[str, ...]] = field(default_factory=dict)


# --- normalisation ----------------------------------------------------------------------------------

_UNICODE = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u00d7": "x",
        "\u2264": "<=",
        "\u2248": "~",
        "\u20ac": " eur ",
        "\u00a3": " gbp ",
    }
)

# Words whose misspellings matter to the rules (edit distance 1, same first letter, length >= 5).
_KEYWORDS = [
    "thousand",
    "million",
    "billion",
    "hundred",
    "milliseconds",
    "millisecond",
    "seconds",
    "second",
    "minutes",
    "minute",
    "hours",
    "users",
    "people",
    "employees",
    "developers",
    "customers",
    "engineers",
    "requests",
    "queries",
    "latency",
    "summarize",
    "summarise",
    "summarization",
    "summaries",
    "summary",
    "translate",
    "translation",
    "translations",
    "chatbot",
    "chatbots",
    "autocomplete",
    "completion",
    "completions",
    "budget",
    "monthly",
    "month",
    "tokens",
    "token",
    "response",
    "responses",
    "generation",
    "prompts",
    "cheapest",
    "cheap",
    "accuracy",
    "accurate",
    "quality",
    "critical",
    "important",
    "concurrent",
    "assistant",
    "question",
    "questions",
    "answering",
    "documents",
    "classify",
    "classifying",
    "nightly",
    "support",
    "knowledge",
    "throughput",
    "available",
    "excluding",
]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


_KEYWORD_SET = frozenset(_KEYWORDS)
_DELETE_INDEX: dict[str, set[str]] = {}
for _kw in _KEYWORDS:
    for _d in _deletes(_kw) | {_kw}:
        _DELETE_INDEX.setdefault(_d, set()).add(_kw)
# English words that are one edit from a keyword but mean something else.
_NOT_TYPOS = frozenset({"seconded", "monthy", "users'", "tokenn", "quantity", "critic", "support"})


@lru_cache(maxsize=8192)
def _corrected(word: str) -> str:
    """The keyword ``word`` is a one-edit misspelling of, or ``word`` itself (cached: words repeat)."""
    if word in _KEYWORD_SET or word in _NOT_TYPOS:
        return word
    candidates: set[str] = set()
    for d in _deletes(word) | {word}:
        candidates |= _DELETE_INDEX.get(d, set())
    candidates = {
        c
        for c in candidates
        if c[0] == word[0] and abs(len(c) - len(word)) <= 1 and c != word + "s" and word != c + "s"
    }
    if len(candidates) == 1:
        return candidates.pop()
    # 'secnds' may match both 'seconds' and 'second': prefer the same length.
    same = {c for c in candidates if len(c) == len(word) + 1 or len(c) == len(word)}
    return sorted(same)[0] if len(same) == 1 else word


def _fix_spelling(text: str) -> str:
    # Only words of 5 letters or more are corrected (shorter ones have too many one-edit neighbours).
    return re.sub(r"[a-z]{5,}", lambda m: _corrected(m.group(0)), text)


_UNITS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"])
}
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "lakh": 1e5, "lakhs": 1e5, "crore": 1e7}
_NUMBER_WORD_RE = re.compile(
    r"\b(?:(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    r"thousand|million|billion|lakhs?|crore|dozen|half|and|\d+(?:\.\d+)?)[\s-]+)*"
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    r"thousand|million|billion|lakhs?|crore|dozen)\b"
)


def _words_value(words: list[str]) -> float | None:
    total = 0.0
    current = 0.0
    seen = False
    half = False
    for w in words:
        if w in ("a", "an", "and"):
            continue
        if w == "half":
            half = True
            continue
        if re.fullmatch(r"\d+(?:\.\d+)?", w):
            current += float(w)
        elif w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "dozen":
            current = (current or 1) * 12
        elif w == "hundred":
            current = (current or 1) * 100
        elif w in _SCALES:
            total += (current or 1) * _SCALES[w]
            current = 0
        else:
            return None
        seen = True
    if not seen:
        return None
    value = total + current
    if half:
        # 'half a million' -> 500000; 'one and a half' -> 1.5.
        value = value / 2 if words[0] == "half" else value + 0.5
    return value


def _words_to_digits(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        raw = m.group(0)
        words = [w for w in re.split(r"[\s-]+", raw.strip()) if w]
        # A leading digit run that is not followed by a scale word stays as typed ('8 one-hour slots').
        while words and words[0] in ("and",):
            words.pop(0)
        if (
            words
            and words[0] in ("a", "an")
            and len(words) > 1
            and words[1] not in _SCALES
            and words[1] not in ("hundred", "dozen")
        ):
            return raw
        value = _words_value(words)
        if value is None:
            return raw
        prefix = " " if raw.startswith(" ") else ""
        return prefix + _fmt(value) + (" " if raw.endswith(" ") else "")

    # 'a few hundred' is vague: keep it out of the numbers ('hundreds' is not a number word).
    text = re.sub(
        r"\b(?:a few|few|several|many|a couple(?: of)?|couple(?: of)?) (hundred|thousand|million)s?\b",
        r"some \1s",
        text,
    )
    text = re.sub(r"\bhalf an? (second|minute|hour|day)\b", r"0.5 \1", text)
    text = re.sub(r"\b(under|within|below|in|than|about|around) an? (second|minute)\b", r"\1 1 \2", text)
    text = re.sub(r"\b(\d+(?:\.\d+)?) and a half\b", lambda m: _fmt(float(m.group(1)) + 0.5), text)
    return _NUMBER_WORD_RE.sub(repl, text)


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e18:
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


_COUNT_NOUNS = (
    r"users?|people|persons|employees|staff|developers|devs|engineers|customers|clients|agents|students|"
    r"members|subscribers|visitors|seats|analysts|researchers|lawyers|attorneys|doctors|clinicians|nurses|"
    r"teachers|reps|representatives|shoppers|players|readers|editors|marketers|sellers|colleagues|workers|"
    r"patients|callers|accounts|requests|queries|tokens|documents|docs|tickets|calls|messages|employees|"
    r"nutzer|benutzer|mitarbeiter|usuarios|utilisateurs|utenti|gebruikers|empleados|employés"
)
_NUMERIC_RE = re.compile(
    r"(?<![\w.])(\d+(?:[.,]\d+)*)"
    r"(?:\s*(?:\^|\*\*)\s*(\d+)|e(\d+)(?![a-z]))?"
    r"(?:\s*(thousand|million|billion|lakhs?|crore|mn|bn|mil)(?![a-z])|(k|mm|m)(?![a-z]))?"
)


# Compiled once: the 20 KB message holds thousands of numbers, each checked against these.
_PLAIN_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_THOUSANDS_COMMA_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL_COMMA_RE = re.compile(r"\d+,\d{1,2}")
_THOUSANDS_DOT_RE = re.compile(r"[1-9]\d{0,2}(?:\.\d{3}){2,}")
_MULTIPLIERS = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "mil": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "lakh": 1e5,
    "lakhs": 1e5,
    "crore": 1e7,
}


def _canonical_numbers(text: str) -> str:
    # Thousands written with spaces or apostrophes ('10 000', "1'000") and, before a count noun, with dots.
    text = re.sub(
        r"(?<![\w.,])(\d{1,3})((?:[ '](?:\d{3}))+)(?![\d.,])",
        lambda m: m.group(1) + re.sub(r"[ ']", "", m.group(2)),
        text,
    )
    text = re.sub(
        rf"(?<![\d.,])([1-9]\d{{0,2}}(?:\.\d{{3}})+)(?=\s*(?:{_COUNT_NOUNS}|dollars?|usd|eur|euros?|\$)\b)",
        lambda m: m.group(1).replace(".", ""),
        text,
    )
    # '5.000' and '12.000' are thousands (nobody types three zeros after a decimal point).
    text = re.sub(r"(?<![\d.,])([1-9]\d{0,2})\.000(?![\d.,])", r"\g<1>000", text)
    # A decimal comma ('99,9 %', '0,11 usd', 'pue 1,5'): one or two digits after it, no digit group after.
    text = re.sub(r"(?<![\d.,])(\d+),(\d{1,2})(?![\d]|,\d)", r"\1.\2", text)

    def repl(m: re.Match[str]) -> str:
        raw, exp1, exp2, word_mult, short_mult = m.groups()
        if _PLAIN_NUMBER_RE.fullmatch(raw):  # the common case first
            base = float(raw)
        elif _THOUSANDS_COMMA_RE.fullmatch(raw):
            base = float(raw.replace(",", ""))
        elif _DECIMAL_COMMA_RE.fullmatch(raw) and (word_mult or short_mult):
            base = float(raw.replace(",", "."))  # decimal comma: '2,5k'
        elif _THOUSANDS_DOT_RE.fullmatch(raw):
            base = float(raw.replace(".", ""))
        else:
            return m.group(0)
        exp = exp1 or exp2
        if exp:
            if len(exp) > 3:
                return m.group(0)
            base = base ** int(exp) if exp1 else base * 10 ** int(exp)
        factor = _MULTIPLIERS.get(word_mult or short_mult or "", 1.0)
        return _fmt(base * factor)

    return _NUMERIC_RE.sub(repl, text)


@dataclass
class _Mentions:
    models: list[str]
    gpus: list[str]


# A minus sign right before a number ('-200 users', 'budget -$5'): not a range ('10-20', 'us-east-1'), not a
# list bullet ('- 200 users').
_NEGATIVE_RE = re.compile(r"(?<![\w.)\]])-(\$?\d+(?:[.,]\d+)*)")


def _drop_negatives(text: str, warnings: list[str] | None) -> str:
    """Hide negative numbers from the rules: dropping the sign would turn '-200 users' into 200 users."""

    def repl(m: re.Match[str]) -> str:
        if warnings is not None:
            warnings.append(f"ignored the negative number {m.group(0)!r}: no field can be negative")
        return " negative-number "

    return _NEGATIVE_RE.sub(repl, text)


_COUNT_X_GPU_RE = re.compile(r"(?<=\d)x(?=(?:h|a|l|b|t|gh|gb|mi)\d)")


def normalize_text(text: str, vocab: Vocabulary, warnings: list[str] | None = None) -> tuple[str, _Mentions]:
    """Lower-cased, spell-fixed text with numbers canonical and models/GPUs as 'modelrefN'/'gpurefN'.

    Foreign number words and units are rewritten into English first; negative numbers are removed (with a
    warning appended to ``warnings``).
    """
    t = text.translate(_UNICODE).lower()
    t = re.sub(r"[ \t\r\f\v]+", " ", t)
    t = to_english(t)
    # '8xA100' is a count and a GPU: split them so the GPU name starts a word.
    t = _COUNT_X_GPU_RE.sub("x ", t)
    mentions = _Mentions(models=[], gpus=[])
    spans: list[tuple[int, int, str]] = []
    for hf_id, s, e in vocab.find_models(t):
        spans.append((s, e, f" modelref{len(mentions.models)} "))
        mentions.models.append(hf_id)
    taken = [(s, e) for s, e, _ in spans]
    for gpu_id, s, e in vocab.find_gpus(t):
        if any(s < te and ts < e for ts, te in taken):
            continue
        spans.append((s, e, f" gpuref{len(mentions.gpus)} "))
        mentions.gpus.append(gpu_id)
    pieces: list[str] = []
    last = 0
    for s, e, placeholder in sorted(spans):
        pieces += [t[last:s], placeholder]
        last = e
    t = "".join([*pieces, t[last:]])
    t = _fix_spelling(t)
    t = _drop_negatives(t, warnings)
    t = re.sub(r"\bsub[- ]second\b", "under 1 second", t)
    t = re.sub(r"\bsub[- ](\d)", r"under \1", t)
    t = _words_to_digits(t)
    t = _canonical_numbers(t)
    # '10 grand' is ten thousand dollars.
    t = re.sub(
        r"(?<![\w.])(\d+(?:\.\d+)?|an?) grand\b",
        lambda m: _fmt((1.0 if m.group(1) in ("a", "an") else float(m.group(1))) * 1000) + " dollars",
        t,
    )
    t = re.sub(r"[ \t]+", " ", t)
    return t, mentions


# --- helpers -----------------------------------------------------------------------------------------


def _num(s: str) -> float:
    return float(s)


def _window_before(t: str, pos: int, size: int = 60, stop: str = ".;!?\n") -> str:
    start = max(0, pos - size)
    w = t[start:pos]
    cut = max(w.rfind(c) for c in stop)
    return w[cut + 1 :] if cut >= 0 else w


def _window_after(t: str, pos: int, size: int = 30, stop: str = ".;!?,\n") -> str:
    w = t[pos : pos + size]
    cuts = [i for i in (w.find(c) for c in stop) if i >= 0]
    # A period inside a number ('0.5') is not a sentence end.
    cuts = [i for i in cuts if not (w[i] == "." and i + 1 < len(w) and w[i + 1].isdigit())]
    w = w[: min(cuts)] if cuts else w
    return re.split(r"\band\b|\bbut\b", w)[0]


_SENTENCE_REACH = 400  # a 'sentence' longer than this either side is cut: rules only look near a match


def _sentence(t: str, pos: int) -> str:
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


class _Builder:
    """Collects field values, checking each against the schema's bounds as it goes."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.sources: list[str] = []  # the words each value came from: their numbers are bound

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


# --- field rules -------------------------------------------------------------------------------------

_TIME_UNITS = {
    "second": 1,
    "sec": 1,
    "s": 1,
    "minute": 60,
    "min": 60,
    "m": 60,
    "hour": 3600,
    "hr": 3600,
    "h": 3600,
    "day": 86400,
    "d": 86400,
    "night": 86400,
    "week": 604800,
    "wk": 604800,
    "month": 2_592_000,
    "mo": 2_592_000,
}
_RATE_NOUNS = (
    r"requests?|reqs?|queries|query|calls?|prompts?|messages?|msgs?|prs|pull requests|documents?|docs?|"
    r"tickets?|completions?|conversations?|chats?|questions?|summaries|translations?|articles?|emails?|"
    r"files?|pages?|items?|records?|jobs?|inferences?|generations?|posts?|descriptions?|reviews?|"
    r"transcripts?|reports?|searches|lookups?|api calls|invocations?|sentences?|contracts?|calls|"
    r"suggestions?|interactions?|turns?|product descriptions|code reviews|commits?|logs?|entries|listings?|"
    r"notes?|images?|invoices?|product listings?"
)
_RATE_ADJ = (
    r"incoming|api|inference|new|user|support|code|pull|llm|model|chat|customer|total|peak|average|avg"
)
_UNIT_RE = r"(second|sec|s|minute|min|m|hour|hr|h|day|d|night|week|wk|month|mo)s?\b"
_RATE_RE = re.compile(
    rf"(?<![\w.$]){N}\s*(?:(?:{_RATE_ADJ})\s+)?(?:(?:{_RATE_NOUNS})\s*)?(?:per\s*|/\s*|(?:an?|each|every)\s+)"
    rf"{_UNIT_RE}"
)
_RATE_ADVERB_RE = re.compile(
    rf"(?<![\w.$]){N}\s*(?:(?:{_RATE_ADJ})\s+)?(?:{_RATE_NOUNS})\s+(hourly|daily|nightly|weekly|monthly|a night|"
    rf"every night|per night|each night|overnight)\b"
)
# 'rqs' is a common slip for 'rps' / 'reqs'.
_QPS_RE = re.compile(rf"(?<![\w.$]){N}\s*(qps|rps|rqs|req/s|reqs/s|req/sec|requests/s|queries/s|rpm|rph)\b")
_QPS_PREFIX_RE = re.compile(rf"\b(qps|rps|rpm)\s*(?:of|:|=|is|around|about|~)?\s*(?:around |about |~)?{N}\b")
_ADVERB_SECONDS = {
    "hourly": 3600,
    "daily": 86400,
    "nightly": 86400,
    "weekly": 604800,
    "monthly": 2_592_000,
    "a night": 86400,
    "every night": 86400,
    "per night": 86400,
    "each night": 86400,
    "overnight": 86400,
}


_PEAK_THEN_AVG_RE = re.compile(
    rf"\s*(?:at|during|in)\s+(?:the\s+)?peaks?\s*(?:,|and|/|;)?\s*(?:~\s*)?{N}\s*"
    rf"(?:on\s+)?(?:avg|average|typical(?:ly)?|normal(?:ly)?|usual(?:ly)?|median|mean)\b"
)


def _rates(t: str, b: _Builder) -> None:
    found: list[tuple[int, float, str]] = []
    for m in _RATE_RE.finditer(t):
        if fast_search(r"\btokens?\b|\busers?\b|\bgpus?\b|\bms\b", m.group(0)):
            continue
        # '20k/mo' with no noun of things is money, not traffic: a monthly rate needs the thing counted.
        if m.group(2).startswith(("mo", "w")) and not fast_search(rf"\b(?:{_RATE_NOUNS})\b", m.group(0)):
            continue
        found.append((m.start(), _num(m.group(1)) / _TIME_UNITS[m.group(2)], m.group(0)))
    for m in _RATE_ADVERB_RE.finditer(t):
        found.append((m.start(), _num(m.group(1)) / _ADVERB_SECONDS[m.group(2)], m.group(0)))
    for m in _QPS_RE.finditer(t):
        per = {"rpm": 60.0, "rph": 3600.0}.get(m.group(2), 1.0)
        found.append((m.start(), _num(m.group(1)) / per, m.group(0)))
    for m in _QPS_PREFIX_RE.finditer(t):
        per = 60.0 if m.group(1) == "rpm" else 1.0
        found.append((m.start(), _num(m.group(2)) / per, m.group(0)))
    for start, qps, src in sorted(found):
        before = _window_before(t, start, 40)
        after = _window_after(t, start + len(src), 20)
        qps = round(qps, 6)
        # '200 qps at peak, 50 avg': the average is the expected load; the peak only describes the traffic's
        # shape (a peak given alone is read as the throughput to sustain).
        avg = _PEAK_THEN_AVG_RE.match(t, start + len(src))
        peak_m = re.match(N, src)
        if avg and peak_m and _num(peak_m.group(1)) > 0:
            b.set("expected_qps", round(qps * _num(avg.group(1)) / _num(peak_m.group(1)), 6), avg.group(0))
            continue
        if re.match(r"^\s*(?:at|during|in)\s+(?:the\s+)?peaks?\b", after) or fast_search(
            r"throughput|sustain|handle (?:up to|peaks? of)|peaks? (?:of|at)?\s*$|at peak|peak", before
        ):
            b.set("target_throughput_rps", qps, src)
        else:
            b.set("expected_qps", qps, src)


_LAT_UNIT = r"(ms|msec|msecs|millisecond|milliseconds|s|sec|secs|second|seconds|min|mins|minute|minutes)\b"
_LATENCY_VALUE_RE = re.compile(rf"(?<![\w.$]){N}\s*{_LAT_UNIT}")
_TTFT_KW = (
    r"ttft|time[\s-]to[\s-]first[\s-]token|first[\s-]token|first[\s-]byte|start (?:streaming|responding|answering)|"
    r"(?:begins?|starts?) (?:to )?(?:stream|respond|appear|show)|starts? (?:streaming|appearing|showing)|"
    r"(?:text|tokens|answer|response|words) (?:start|begin)s? (?:to )?(?:appear|stream|show)|"
    r"(?:respons\w*|answers?|repl(?:y|ies)|output) (?:must |should |needs? to |has to |have to )?(?:start|begin)s?"
)
_TPOT_KW = (
    r"tpot|\bitl\b|inter[\s-]?token|time[\s-]per[\s-](?:output[\s-])?token|per[\s-](?:output[\s-])?token|"
    r"token[\s-]to[\s-]token|each (?:subsequent |output |new )?token|between tokens|per generated token"
)
_E2E_KW = (
    r"e2e|end[\s-]to[\s-]end|full (?:response|answer|reply|completion|result)|complete (?:response|answer|reply)|"
    r"total (?:latency|response time|time)|whole (?:response|answer|reply)|round[\s-]trip|turnaround|"
    r"entire (?:response|answer)|(?:finish|complete|done)(?:d|s)? (?:in|within|under)"
)
_GENERIC_LAT = (
    r"latency|latencies|respon\w*|repl(?:y|ies)|answers?|suggestions?|completions?|fast|quick|return|"
    r"under|within|below|less than|at most|no more than|lower than|<=|<|max(?:imum)?|p\d{2}|target|take|"
    r"back in|come back|in"
)


_LAT_KW = "|".join((_TTFT_KW, _TPOT_KW, _E2E_KW))
_LAT_KW_BEFORE_RE = re.compile(
    rf"({_LAT_KW})\s*(?:p\d{{2}}\s*)?(?:latency\s*)?(?:<=|<|:|=|of|is|under|below|within|less than|at most|"
    rf"max(?:imum)?|target(?: of)?|(?:should|must) be(?: under| below| within)?)?\s*~?\s*$"
)
# 'per suggestion' / 'for each completion' after a value: a latency per item, maybe with its keyword next.
_LAT_ITEM = (
    r"(?:per|for each|for every|each|a)\s+(?:suggestion|completion|response|reply|answer|query|call)s?"
)
_LAT_KW_AFTER_RE = re.compile(
    rf"^\s*(?:p\d{{2}}\s*)?(?:{_LAT_ITEM}\s*)?(?:for\s+(?:the\s+)?|of\s+)?({_LAT_KW})"
)
_LAT_PER_ITEM_RE = re.compile(rf"^\s*({_LAT_ITEM})\b")


def _lat_kind(keyword: str) -> str:
    if re.fullmatch(_TTFT_KW, keyword):
        return "ttft"
    return "tpot" if re.fullmatch(_TPOT_KW, keyword) else "e2e"


def _latency_field(keyword_kind: str, value_ms: float, task: str | None) -> str:
    if keyword_kind == "ttft":
        return "target_ttft_p90_ms"
    if keyword_kind == "tpot":
        return "target_tpot_p90_ms"
    if keyword_kind == "e2e":
        return "target_e2e_latency_p95_ms"
    # A bare latency: code completions are short and not streamed, so the whole request counts; otherwise
    # a sub-second target is about the first token and a longer one about the whole response.
    if task == "code_completion" or value_ms >= 1000:
        return "target_e2e_latency_p95_ms"
    return "target_ttft_p90_ms"


def _latencies(t: str, b: _Builder, task: str | None) -> None:
    prev_end = 0
    for m in _LATENCY_VALUE_RE.finditer(t):
        value = _num(m.group(1))
        unit = m.group(2)
        ms = (
            value
            if unit.startswith("m") and unit.startswith(("ms", "msec", "milli"))
            else (value * 60_000 if unit.startswith("min") else value * 1000)
        )
        before_full = t[max(prev_end, m.start() - 70) : m.start()]
        prev_end = m.end()
        # 'per second' / 'every 5 seconds' are rates and periods, not latencies.
        if fast_search(
            # A spaced slash separates list items ('99.9% / 300ms p90 TTFT'), it is not 'per'.
            r"(?:\bper|(?<!\s)/|\ban?|\beach|\bevery|\bfor|\bof|\blast(?:s|ing)?|\bafter|\bwait)\s*$",
            before_full,
        ) and not fast_search(rf"(?:{_LAT_KW}|latency|response time)\s*(?:p\d{{2}}\s*)?of\s*$", before_full):
            continue
        before = re.split(r"[.;!?,]|\band\b|\bbut\b", before_full)[-1]
        after = _window_after(t, m.end(), 30)
        # A percentile other than the fields' own (p90 first token / per token, p95 end to end) is a
        # different target: 'p99 under a second' must not become a p95 one.
        pct = fast_search(r"\bp(\d{2})\b", before) or re.match(r"^\s*(?:at\s+)?p(\d{2})\b", after)
        ttft_named = fast_search(
            rf"(?:{_TTFT_KW})\W*(?:p\d{{2}}\W*)?(?:latency\W*)?\w*\W*$", before
        ) or re.match(rf"^\s*(?:p\d{{2}}\s*)?(?:{_TTFT_KW})", after)
        # One TTFT slot: a stricter percentile's bound (p99) is also a p90 bound; a looser one (p50) is not.
        if pct and pct.group(1) not in ("90", "95") and not (ttft_named and int(pct.group(1)) > 90):
            continue
        # A keyword right before the number names it ('ttft<150ms', 'tpot 50 ms'); a keyword right after it
        # names it too ('150 ms ttft'), unless a number follows that keyword, which then is its own
        # ('ttft<150ms tpot<20ms': 'tpot' belongs to 20 ms, not to 150 ms).
        just_before = _LAT_KW_BEFORE_RE.search(before)
        after_kw = _LAT_KW_AFTER_RE.match(after)
        if after_kw and re.match(
            r"\s*(?:p\d{2}\s*)?(?:<=|<|:|=|under|below|within|of|is)?\s*~?\s*\d", after[after_kw.end() :]
        ):
            after_kw = None
        per_item = _LAT_PER_ITEM_RE.match(after)
        kind = ""
        kw_match = just_before or after_kw
        if kw_match:
            kind = _lat_kind(kw_match.group(1))
        elif per_item:
            kind = "generic"
        else:
            hits: list[tuple[int, str]] = []
            for k, rx in (("ttft", _TTFT_KW), ("tpot", _TPOT_KW), ("e2e", _E2E_KW)):
                for km in re.finditer(rx, before):
                    hits.append((km.end(), k))
            if hits:
                kind = max(hits)[1]
            elif fast_search(_GENERIC_LAT, before):
                kind = "generic"
        if not kind:
            continue
        if kind == "generic" and fast_search(r"\b(?:per|a|each)\s+(?:token|request)\b", after):
            continue
        b.set(_latency_field(kind, ms, task), round(ms, 3), m.group(0))
    # Streaming speed per user implies the time per output token ('at least 30 tokens per second').
    for m in re.finditer(rf"(?<![\w.$]){N}\s*(?:tokens?|toks?)\s*(?:per|/|a)\s*(?:second|sec|s)\b", t):
        before = _window_before(t, m.start(), 50)
        if fast_search(
            r"throughput|total|aggregate|overall|cluster|combined|gpu", before + t[m.end() : m.end() + 25]
        ):
            continue
        value = _num(m.group(1))
        if value > 0:
            b.set("target_tpot_p90_ms", round(1000.0 / value, 3), m.group(0))


_TOKEN_RE = re.compile(rf"(?<![\w.$]){N}\s*-?\s*(?:tokens?|toks?|tkns?)\b")
_PROMPT_KW = (
    r"prompts?|inputs?|in\b|context|documents?|docs?|questions?|quer(?:y|ies)|requests?|articles?|tickets?|"
    r"files?|transcripts?|emails?|conversation|history|system prompt|source|reads?|send|paste|chunks?|"
    r"passages?|contracts?|reports?|pages?|long|isl|input length|prompt length"
)
_OUTPUT_KW = (
    r"outputs?|respons\w*|answers?|generat\w*|completions?|repl(?:y|ies)|summar\w*|out\b|writes?|produc\w*|"
    r"returns?|translations?|osl|output length|suggestions?|descriptions?|posts?|max_tokens|max tokens"
)


# 'answers ~500' / 'responses around 300': an output length given without the word 'tokens', read as
# tokens only when the same sentence counts tokens ('prompts around 8k tokens, answers ~500').
_BARE_OUTPUT_RE = re.compile(
    rf"\b(?:answers?|responses?|outputs?|completions?|repl(?:y|ies)|generations?)\s+(?:are\s+|is\s+)?"
    rf"(?:(?:around|about|roughly|approx\.?|approximately|typically|usually|average|avg|of|~)\s*)*"
    rf"~?\s*{N}(?=\s*(?:tokens?\b|[.,;!?)]|and\b|$))"
)


# The kind of tokens between the number and 'tokens': '8k prompt tokens, 512 output tokens'.
_NOUN_TOKENS_RE = re.compile(
    rf"(?<![\w.$]){N}\s+(prompt|input|output|completion|generation|response|answer)\s+tokens?\b"
)


def _token_lengths(t: str, b: _Builder) -> None:
    for m in _BARE_OUTPUT_RE.finditer(t):
        if fast_search(r"\btokens?\b", _sentence(t, m.start())) and _num(m.group(1)) == int(_num(m.group(1))):
            b.set("generation_length_avg", int(_num(m.group(1))), m.group(0))
    for m in re.finditer(
        rf"\b(?:input|prompt|isl)s?(?:\s+length)?\s*[:=~]?\s*(?:of\s+)?(?:~\s*)?{N}\s*(?:tokens?)?\s*(?:/|,|and|"
        rf"x|→|->)\s*(?:output|generation|osl)s?(?:\s+length)?\s*[:=~]?\s*(?:of\s+)?(?:~\s*)?{N}",
        t,
    ):
        b.set("prompt_length_avg", int(_num(m.group(1))), m.group(0))
        b.set("generation_length_avg", int(_num(m.group(2))), m.group(0))
    for m in re.finditer(
        rf"(?<![\w.$]){N}\s*(?:tokens?\s*)?in\s*(?:/|,|and)\s*~?\s*{N}\s*(?:tokens?\s*)?out\b", t
    ):
        b.set("prompt_length_avg", int(_num(m.group(1))), m.group(0))
        b.set("generation_length_avg", int(_num(m.group(2))), m.group(0))
    for m in _NOUN_TOKENS_RE.finditer(t) if "token" in t else ():
        if _num(m.group(1)) == int(_num(m.group(1))):
            kind = "prompt_length_avg" if m.group(2) in ("prompt", "input") else "generation_length_avg"
            b.set(kind, int(_num(m.group(1))), m.group(0))
    for m in _TOKEN_RE.finditer(t):
        after = _window_after(t, m.end(), 35)
        before = _window_before(t, m.start(), 45, stop=".;!?,\n")
        if re.match(r"^\s*(?:per|/|a|each)\s*(?:second|sec|s|minute|min)\b", after):
            continue
        if fast_search(
            r"(?:context (?:window|length|size)|max(?:imum)? context|window of|up to|limit)\W*\s*$", before
        ) or re.match(r"^\s*(?:context (?:window|length)|window)", after):
            continue
        value = _num(m.group(1))
        if value != int(value):
            continue
        after_kw = re.match(
            rf"^\s*(?:of\s+|for\s+(?:the\s+)?|per\s+)?(?:\w+\s+)?\b({_PROMPT_KW}|{_OUTPUT_KW})", after
        )
        hits: list[tuple[int, str]] = []
        for km in re.finditer(rf"\b(?:{_PROMPT_KW})", before):
            hits.append((km.end(), "prompt"))
        for km in re.finditer(rf"\b(?:{_OUTPUT_KW})", before):
            hits.append((km.end(), "output"))
        kind = ""
        if after_kw:
            # The noun right after the number is the strongest clue ('200-token summaries').
            kind = "output" if re.fullmatch(_OUTPUT_KW, after_kw.group(1)) else "prompt"
        elif hits:
            kind = max(hits)[1]
        if kind == "prompt":
            b.set("prompt_length_avg", int(value), m.group(0))
        elif kind == "output":
            b.set("generation_length_avg", int(value), m.group(0))


_PERIOD_RE = (
    r"^\s*(?:usd|dollars?|bucks)?\s*(?:/|per|an?|each|every)?\s*"
    r"(month|mo|monthly|hour|hr|h|hourly|year|yr|annually|annual|yearly|day|daily|week|weekly)\b"
)
_PERIOD_MONTHLY = {
    "month": 1.0,
    "mo": 1.0,
    "monthly": 1.0,
    "year": 1 / 12,
    "yr": 1 / 12,
    "annually": 1 / 12,
    "annual": 1 / 12,
    "yearly": 1 / 12,
    "day": 30.0,
    "daily": 30.0,
    "week": 52 / 12,
    "weekly": 52 / 12,
}


_SET_ASIDE_RE = re.compile(r"\s*(?:/|per|an?)\s*(?:month|mo|hour|hr)\w*\s+for\s+(?:this|it|the)\b")


def _money(t: str, b: _Builder) -> str:
    """Budgets and power prices; returns the text with money spans blanked for the other rules."""
    blanked = t
    # Power price, dollars or cents per kWh.
    for m in re.finditer(
        rf"(?:\$|usd\s*)?\s*{N}\s*(cents?|¢|c)?\s*(?:usd|dollars)?\s*(?:/|per|an?|por|pro|par)\s*kwh\b", t
    ):
        value = _num(m.group(1)) / (100 if m.group(2) else 1)
        b.set("datacenter_context.power_cost_per_kwh", round(value, 6), m.group(0))
        blanked = blanked[: m.start()] + " " * (m.end() - m.start()) + blanked[m.end() :]
    money_res = [
        re.compile(rf"(?:\$|usd\s*|us\$)\s*{N}"),
        re.compile(rf"(?<![\w.$]){N}\s*(?:usd|dollars?|bucks|\$)(?![a-z])"),
        re.compile(rf"(?<![\w.$]){N}\s*(?=(?:/|per|an?)\s*(?:month|mo|hour|hr)\b)"),
    ]
    seen: set[int] = set()
    for i, rx in enumerate(money_res):
        for m in rx.finditer(blanked):
            if m.start() in seen or any(abs(m.start() - s) < 3 for s in seen):
                continue
            sentence = _sentence(blanked, m.start())
            before = _window_before(blanked, m.start(), 45)
            if i == 2 and not (
                fast_search(r"budget|spend|cost|afford|pay|cap|limit|price|bill|\bmax\b", before)
                # 'we've got 20k/mo for this': an amount set aside for the project.
                or (
                    fast_search(r"\b(?:we'?ve got|we have|we got|have got|got)\s*$", before)
                    and _SET_ASIDE_RE.match(blanked, m.end())
                )
            ):
                continue
            if fast_search(r"\bkwh\b", blanked[m.end() : m.end() + 20]):
                continue
            if fast_search(
                r"\b(?:eur|gbp|euros?|pounds?)\s*$", blanked[max(0, m.start() - 8) : m.start()]
            ) or re.match(r"^\s*(?:eur|gbp|euros?|pounds?)\b", blanked[m.end() : m.end() + 10]):
                b.warnings.append(f"budget {m.group(0).strip()!r} is not in USD; not converted")
                blanked = _blank(blanked, m)
                continue
            seen.add(m.start())
            value = _num(m.group(1))
            after = blanked[m.end() : m.end() + 25]
            pm = re.match(_PERIOD_RE, after)
            period = pm.group(1) if pm else None
            if period is None:
                bm = fast_search(
                    r"\b(monthly|hourly|yearly|annual|per month|per hour|a month|an hour)\b", before
                )
                if bm:
                    period = bm.group(1).replace("per ", "").replace("an ", "").replace("a ", "")
            if (
                fast_search(
                    r"\b(?:buy\w*|purchas\w*|capex|hardware budget|up ?front|one[- ]time|acquir\w*)\b",
                    sentence,
                )
                and period is None
            ):
                blanked = _blank(blanked, m)
                continue
            if period in ("hour", "hr", "h", "hourly"):
                b.set("budget.max_hourly_cost_usd", value, m.group(0))
            elif period in _PERIOD_MONTHLY:
                b.set("budget.max_monthly_cost_usd", round(value * _PERIOD_MONTHLY[period], 2), m.group(0))
            elif fast_search(
                r"budget|spend|afford|cost|cap|limit|bill|under|less than|at most|max", before + after
            ):
                # A budget with no period is read as monthly, as cloud budgets are usually stated (the
                # issue's '3k USD' example and the labelled sets agree); say so rather than assume silently.
                b.set("budget.max_monthly_cost_usd", value, m.group(0))
                if b.data.get("budget", {}).get("max_monthly_cost_usd") == value:
                    b.warnings.append(
                        f"budget {m.group(0).strip()!r} has no period; read as per month (edit it if not)"
                    )
            blanked = _blank(blanked, m, extra=len(pm.group(0)) if pm else 0)
    return blanked


def _blank(t: str, m: re.Match[str], extra: int = 0) -> str:
    end = m.end() + extra
    return t[: m.start()] + " " * (end - m.start()) + t[end:]


_P_LAT = (
    r"latency|speed|fast(?:er|est)?|quick(?:er|ness)?|snappy|responsive(?:ness)?|real[- ]?time|instant\w*"
)
_P_COST = r"costs?|price|money|cheap(?:er|est|ly)?|budget|inexpensive|affordab\w*|spend(?:ing)?"
_P_ACC = r"accura\w*|quality|correct(?:ness)?|precis\w*|smart(?:er)?|intelligen\w*|reasoning"
_PRIORITY_CUES: dict[str, str] = {
    "latency": (
        r"low[- ]latency|latency[- ](?:sensitive|critical)|latency (?:is|matters|are)\s+(?:\w+\s+)?(?:critical|key|"
        r"crucial|important|paramount|everything|a must|the priority|top priority|king|essential|vital)|"
        r"as fast as possible|real[- ]?time|snappy|instant(?:aneous|ly)?|speed (?:is|matters)|"
        r"fast (?:responses?|answers?|replies|inference|completions?|suggestions?)|(?:needs?|has|have|must) to be "
        r"(?:really |very |super )?fast|must be (?:really |very |super )?fast|super[- ]fast|blazing|"
        r"minimi[sz]e (?:the )?latency|lowest (?:possible )?latency|responsiveness|as quick as possible|"
        # Users leaving over slowness: 'users bounce if it feels sluggish'.
        r"(?:bounce|leave|churn|quit|give up|abandon)\w*\s+(?:\w+\s+){0,3}(?:sluggish|laggy|slow)\b|"
        r"(?:very|really|super) fast|\bfast (?:chat\w*|bot|assistant|autocomplete|code completion)|latency is (?:our )?(?:the )?(?:main|top|biggest|primary) (?:concern|priority)"
    ),
    "cost": (
        r"cheap(?:est|ly)?|low[- ]cost|lowest cost|cost[- ](?:effective|efficient|sensitive|conscious)|"
        r"minimi[sz]e (?:the )?(?:costs?|spend\w*)|tight budget|budget is tight|limited budget|on a budget|"
        r"shoestring|inexpensive|affordab\w*|save (?:money|costs?)|keep (?:the )?costs? (?:down|low)|"
        r"reduce (?:our )?costs?|frugal|cost (?:is|matters)\s+(?:\w+\s+)?(?:most|key|critical|the priority|"
        r"everything|important|crucial)|costs? (?:is|are) (?:our )?(?:the )?(?:main|top|biggest|primary) "
        r"(?:concern|priority)|budget[- ]conscious|least expensive|"
        # Someone holding the purse is watching: 'the CFO is watching costs like a hawk'.
        r"(?:watch\w*|mindful of|worried about|careful (?:with|about)|concerned about|scrutini[sz]\w*|"
        r"sensitive to)\s+(?:the\s+|our\s+)?(?:costs?|spend\w*|the bill|cloud bill|money)"
    ),
    "accuracy": (
        r"accuracy (?:is|matters)\s+(?:\w+\s+)?(?:critical|key|crucial|important|paramount|everything|most|"
        r"essential|vital)|most accurate|high(?:est)? accuracy|best (?:possible )?(?:quality|answers|accuracy)|"
        r"quality (?:is|matters)\s+(?:\w+\s+)?(?:critical|key|crucial|paramount|everything|most|essential)|"
        r"can'?t afford (?:mistakes|errors|hallucinations|wrong answers)|(?:must|needs? to) be (?:very |highly )?"
        r"accurate|correctness (?:is|matters)|accuracy above all|maximi[sz]e (?:accuracy|quality)|"
        r"quality is (?:our )?(?:the )?(?:main|top|biggest|primary) (?:concern|priority)"
    ),
    "balanced": (
        r"\bbalanced?\b|good balance|balance (?:between|of)|trade[- ]?off|middle ground|"
        r"(?:reasonable|decent) (?:cost|price) and (?:latency|speed)|best bang for"
    ),
}
_NEGATED_PRIORITY: dict[str, str] = {
    "latency": (
        r"latency (?:is not|isn'?t|doesn'?t|does not|is no)\s+(?:\w+\s+)?(?:critical|important|a concern|matter|"
        r"an issue|a priority|big deal)|(?:don'?t|do not|doesn'?t) need (?:low latency|real[- ]?time|it to be fast)|"
        r"not latency[- ]sensitive|(?:don'?t|do not) care (?:much )?about (?:latency|speed)|"
        r"(?:no|not) (?:need for )?real[- ]?time|latency (?:doesn'?t|does not) matter|not time[- ]critical|"
        r"(?:doesn'?t|does not|don'?t|do not|no) (?:need|have) to be (?:\w+ )?(?:fast|quick|real[- ]?time)|"
        r"speed (?:is not|isn'?t) (?:critical|important|a concern|a priority)"
    ),
    "cost": (
        r"costs? (?:is not|isn'?t|doesn'?t|does not)\s+(?:\w+\s+)?(?:a concern|an issue|matter|important|"
        r"a priority)|money is no (?:object|issue)|regardless of (?:the )?costs?|whatever it costs|"
        r"(?:don'?t|do not) care (?:much )?about (?:costs?|price|money)|budget is not (?:a|an) (?:concern|issue)"
    ),
    "accuracy": r"(?:don'?t|do not) care (?:much )?about (?:accuracy|quality)|quality (?:is not|isn'?t) critical",
}
_COMPARATIVE_RE = re.compile(
    rf"({_P_LAT}|{_P_COST}|{_P_ACC})\s+(?:matters?|is|are)\s+(?:much |far |way )?more\s+(?:important\s+)?"
    rf"(?:to us\s+)?than\s+({_P_LAT}|{_P_COST}|{_P_ACC})"
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})\s+over\s+({_P_LAT}|{_P_COST}|{_P_ACC})"
    rf"|prioriti[sz]\w*\s+(?:\w+\s+)?({_P_LAT}|{_P_COST}|{_P_ACC})"
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})\s+(?:is|are)\s+(?:our\s+|the\s+)?(?:top|main|first|highest|number one|#1|"
    rf"primary|biggest)\s+(?:priority|concern|goal)"
    rf"|care\s+(?:most|mostly)\s+about\s+({_P_LAT}|{_P_COST}|{_P_ACC})"
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})\s+(?:first|above all(?: else)?|is king)"
    # 'quality is what matters, not speed', 'accuracy over everything', 'only cost matters'.
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})\s+(?:is|are)\s+(?:what (?:really |truly )?matters?|all (?:that )?(?:really )?"
    rf"matters?|the only thing that matters|what we care about)"
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})\s+(?:over|above|before|beats)\s+(?:everything|anything|all)(?: else)?"
    rf"|only\s+({_P_LAT}|{_P_COST}|{_P_ACC})\s+(?:really\s+)?matters"
    # A ranking: 'latency > cost > everything else' (the first item wins).
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})\s*>+\s*(?:{_P_LAT}|{_P_COST}|{_P_ACC}|everything|anything|all)\b"
)


def _kind(word: str) -> str:
    if re.fullmatch(_P_LAT, word):
        return "latency"
    if re.fullmatch(_P_COST, word):
        return "cost"
    return "accuracy"


def _priority(t: str, b: _Builder) -> None:
    negated = {k for k, rx in _NEGATED_PRIORITY.items() if fast_search(rx, t)}
    m = fast_search(_COMPARATIVE_RE, t)
    if m:
        word = next(g for g in m.groups() if g)
        kind = _kind(word)
        if kind not in negated:
            b.set("priority", kind, m.group(0))
            return
    cleaned = t
    for rx in _NEGATED_PRIORITY.values():
        if fast_search(rx, cleaned):
            cleaned = re.sub(rx, " ", cleaned)
    found = [k for k, rx in _PRIORITY_CUES.items() if k not in negated and fast_search(rx, cleaned)]
    # 'budget is tight: 1,500/month' states a budget (already a constraint), not that cost beats latency or
    # quality; without an amount the tight budget is all that is said about cost, so it stands.
    if "cost" in found and "budget" in b.data:
        cues = [m.group(0) for m in re.finditer(_PRIORITY_CUES["cost"], cleaned)]
        if cues and all(re.fullmatch(r"tight budget|budget is tight|limited budget", c) for c in cues):
            found.remove("cost")
    if "balanced" in found or len(found) > 1:
        b.set("priority", "balanced", "several priorities" if len(found) > 1 else "balanced")
    elif found:
        b.set("priority", found[0], found[0])


def _quality(t: str, b: _Builder) -> None:
    if fast_search(
        r"very high[- ]quality|highest[- ]quality|top[- ](?:notch )?quality|best (?:possible )?quality|"
        r"premium quality|excellent quality|state[- ]of[- ]the[- ]art quality|very_high|"
        r"quality (?:must|needs to|should|has to) be very high",
        t,
    ):
        b.set("quality_threshold", "very_high", "very high quality")
    elif fast_search(
        r"(?<!very )high[- ]quality|quality (?:must|needs to|should) be high|high quality bar", t
    ):
        b.set("quality_threshold", "high", "high quality")
    elif fast_search(
        r"(?:decent|acceptable|ok|okay|reasonable|standard|basic|good[- ]enough|average) quality|"
        r"quality (?:is|can be) (?:secondary|less important)|doesn'?t need to be perfect",
        t,
    ):
        b.set("quality_threshold", "standard", "standard quality")


def _reliability(t: str, b: _Builder) -> None:
    m = fast_search(
        rf"(?<![\w.]){N}\s*%\s*(?:uptime|availability|available|sla|slo|reliability|of the time)", t
    ) or fast_search(
        rf"(?:uptime|availability|sla|reliability)\s*(?:target|goal|requirement)?\s*(?:of|:|=|at|must be|del|de|di|"
        rf"should be|is|>=|>|needs to be)?\s*(?:at least\s*|>=?\s*)?{N}\s*%",
        t,
    )
    if m:
        b.set("reliability_target", _num(m.group(1)), m.group(0))
        return
    m = fast_search(r"\b([2-6])\s+nines\b", t)
    if m:
        n = int(m.group(1))
        b.set("reliability_target", round(100 - 100 * 10 ** (-n), n), m.group(0))


_NEG_BEFORE = re.compile(
    r"(?:\bnot|\bno|\bnever|\bwithout|\bdon'?t|\bdo not|\bexcept|\bexcluding|\bexclude|\bavoid(?:ing)?|\bbut not|\brather than|"
    r"\binstead of|\bother than|\banything but|can'?t use|cannot use|don'?t want|no access to|don'?t have|"
    r"\bban(?:ned)?|\bskip|\bnothing on|can'?t get|cannot get|unable to get|couldn'?t get|no quota for|"
    r"(?:can'?t|cannot|unable to) (?:get|obtain|secure) (?:any )?(?:quota|capacity|allocation|access)s? (?:for|on|to))\s+(?:(?:any|the|our|use|using|on|an?|to|run on|running on|deploy on)\s+)*"
    r"(?:gpuref\d+s?\s*(?:,|or|and|nor|/)\s*)*$"
)
_NEG_AFTER = re.compile(
    r"^\s*(?:s\s+)?(?:(?:is|are)\s+not\s+(?:an option|allowed|available|possible|ok|okay|supported)|"
    r"(?:isn'?t|aren'?t)\s+(?:an option|allowed|available|possible|ok|okay|supported)|"
    r"(?:is|are)\s+(?:out|excluded|off the table|banned|too (?:slow|expensive|small|old))|(?:are|is)\s+a no[- ]go)"
)
_OWNED_CUE = re.compile(
    r"\b(?:our|own|we have|we've got|we got|we own|we already (?:have|own)|already (?:have|own)|owned|in[- ]house|"
    r"on[- ]prem\w*|sitting idle|idle|spare|existing|we bought|we purchased|in our (?:datacenter|data center|dc|"
    r"cluster|rack|lab|basement)|have access to \d+)\b"
)
_PURCHASE_CUE = re.compile(
    r"\b(?:buy|buying|purchase|purchasing|capex|acquire|procure|procurement|invest in|order(?:ing)? (?:some|new))\b"
)


# A count after the GPU name: 'our B200 cluster (64 GPUs)', 'an H100 cluster of 32 GPUs'.
_COUNT_AFTER_RE = re.compile(
    r"^\s*s?\s*(?:cluster|servers?|nodes?|machines?|boxes|fleet|pool|rack|farm)?\s*"
    r"(?:\(\s*(\d+)\s*(?:x\s*)?(?:gpus?|cards?|accelerators?)?\s*\)|(?:of|with)\s+(\d+)\s*(?:gpus|cards|accelerators)\b)"
)


_RUNS_ON_RE = re.compile(
    # Said as a requirement ('has to run on one T4'), not as a fact about hardware ('we run on our 8 H100s').
    r"\b(?:has to|have to|must|needs? to|should|can|could|would|will|want to|able to|only)\s+(?:\w+\s+)?"
    r"(?:run|fit|deploy|serve|host)\w*\s+(?:it\s+|this\s+|them\s+)?on\s+(?:just\s+|only\s+)?"
    r"(?:a\s+single\s+|(\d+)\s*(?:x\s*)?)$"
)
_NODES_OF_RE = re.compile(
    r"(?<![\w.])(\d+)\s+(?:nodes?|servers?|machines?|boxes|hosts?)\s+(?:of|with)\s+\d+\s*(?:x\s*)?$"
)


def _gpus(t: str, mentions: _Mentions, b: _Builder, gpu_vendors: dict[str, str]) -> None:
    run_counts: list[int] = []
    available: list[str] = []
    excluded: list[str] = []
    inventory: dict[str, int] = {}
    for m in re.finditer(r"gpuref(\d+)", t):
        gpu = mentions.gpus[int(m.group(1))]
        near = _window_before(t, m.start(), 60, stop=".;!?,\n")
        after = t[m.end() : m.end() + 40]
        if fast_search(_NEG_BEFORE, near) or _NEG_AFTER.match(after):
            excluded.append(gpu)
            continue
        sentence = _sentence(t, m.start())
        before30 = t[max(0, m.start() - 30) : m.start()]
        count_before = fast_search(
            r"(?<![\w.])(\d+)\s*(?:x\s*)?(?:(?:nvidia|idle|spare|existing|owned|more|gpus?)\s+)*$", before30
        )
        count_after = _COUNT_AFTER_RE.match(after)
        # A total in brackets after the GPU beats a per-node count before it ('4 nodes of 8xA100 (32 GPUs)').
        count_m = (
            (count_after if count_after and count_after.group(1) else None)
            or count_before
            or re.match(r"^\s*s?\s*(?:x|\*)\s*(\d+)\b", after)
            or count_after
        )
        # 'has to run on one T4' is a constraint on the deployment, not hardware the person owns.
        runs_on = fast_search(_RUNS_ON_RE, t[max(0, m.start() - 60) : m.start()])
        if runs_on:
            available.append(gpu)
            run_counts.append(int(runs_on.group(1) or 1))
            continue
        owned = bool(fast_search(_OWNED_CUE, sentence)) and not fast_search(_PURCHASE_CUE, sentence)
        if owned and count_m:
            count = int(next(g for g in count_m.groups() if g))
            nodes = fast_search(_NODES_OF_RE, before30)
            if count_m is count_before and nodes:
                count *= int(nodes.group(1))
            if 1 <= count <= 100_000:
                inventory[gpu] = inventory.get(gpu, 0) + count
                continue
        available.append(gpu)
    # A vendor ruled out rules out each of its GPUs: 'we'd rather not use AMD'.
    vendors = [v for v in ("amd", "nvidia", "intel") if v in t]
    for vm in re.finditer(rf"\b({'|'.join(vendors)})\b", t) if vendors else ():
        near = _window_before(t, vm.start(), 60, stop=".;!?,\n")
        if fast_search(_NEG_BEFORE, near) or _NEG_AFTER.match(t[vm.end() : vm.end() + 40]):
            excluded += [g for g, v in gpu_vendors.items() if v.lower() == vm.group(1)]
    if excluded:
        b.set("excluded_gpus", list(dict.fromkeys(excluded)), "not …")
    avail = [g for g in dict.fromkeys(available) if g not in excluded and g not in inventory]
    if avail:
        b.set("available_gpus", avail, "gpu mentions")
    if inventory:
        b.set("gpu_inventory", [{"gpu": g, "count": c} for g, c in inventory.items()], "owned gpus")
    cap = fast_search(
        rf"(?:at most|no more than|max(?:imum)?(?: of)?|up to|limit(?:ed)? to|capped at|cap of|only have|only|"
        rf"just|budget for)\s*{N}\s*(?:gpuref\d+s?|gpu'?s?|cards?|accelerators?)(?![\w])",
        t,
    ) or fast_search(rf"(?<![\w.]){N}\s*gpus?\s*(?:max|maximum|at most|tops)\b", t)
    # 'H100s only, at most 2 of them': 'them' are the GPUs named just before.
    cap = cap or fast_search(
        rf"gpuref\d+s?\b[^.;!?\n]{{0,80}}\b(?:at most|no more than|max(?:imum)?(?: of)?|up to)\s*{N}\s*"
        rf"of\s+(?:them|those)\b",
        t,
    )
    if cap:
        b.set("max_gpus", int(_num(cap.group(1))), cap.group(0))
    elif run_counts:
        b.set("max_gpus", max(run_counts), "run on N gpus")
    elif fast_search(r"\b(?:a single|1|one) gpu\b(?!\s*(?:per|each))|\bsingle[- ]gpu\b", t):
        b.set("max_gpus", 1, "single gpu")


def _models(t: str, mentions: _Mentions, b: _Builder) -> None:
    preferred: list[str] = []
    for m in re.finditer(r"modelref(\d+)", t):
        near = _window_before(t, m.start(), 40, stop=".;!?,\n")
        if fast_search(
            r"(?:\bnot|\bno|\bwithout|\bavoid|\bexcept|\bother than|\binstead of|\brather than)\s+"
            r"(?:(?:use|using|the|a)\s+)*$",
            near,
        ):
            continue
        model = mentions.models[int(m.group(1))]
        after = t[m.end() : m.end() + 30]
        # 'Llama 3.1 70B quality', 'as good as GPT-4o', 'at least Qwen2.5-72B level': a floor, not a pick.
        if re.match(r"^\s*(?:-|\s)?(?:level\s+)?(?:quality|level|class|grade)\b", after) or fast_search(
            r"\b(?:as good as|at least as good as|comparable to|on par with|quality of|matching)\s+(?:the\s+)?$",
            near,
        ):
            b.set("quality_reference_model", model, "named quality floor")
            continue
        preferred.append(model)
    if preferred:
        b.set("preferred_models", list(dict.fromkeys(preferred)), "model mentions")


_PROVIDERS = (
    ("AWS", r"\baws\b|amazon web services|\bec2\b|sagemaker|\beks\b"),
    ("GCP", r"\bgcp\b|google cloud|\bgke\b|vertex ai"),
    ("Azure", r"\bazure\b|\baks\b"),
    ("Oracle OCI", r"\boci\b|oracle cloud"),
    ("CoreWeave", r"coreweave"),
    # 'lambda' alone is also AWS Lambda or a programming term: only with a cue that it is where GPUs live.
    (
        "Lambda",
        r"lambda (?:labs|cloud|gpu)|(?:(?:we'?re|we are|currently|already|run(?:ning)?|stay|host(?:ed)?|deploy"
        r"(?:ed)?|rent(?:ing)?(?: gpus)?) (?:on|with|at|from)|via) lambda\b(?! function)",
    ),
    ("RunPod", r"run ?pod"),
    ("Vast.ai", r"vast\.?ai|(?:on|via|from) vast\b(?! (?:amounts?|numbers?|majority|array))"),
    ("Nebius", r"nebius"),
    ("Crusoe", r"crusoe"),
    ("Together AI", r"together\.?(?: )?ai\b|together computer"),
    ("Paperspace", r"paperspace"),
    ("Fluidstack", r"fluidstack"),
    ("Hyperstack", r"hyperstack"),
    ("Voltage Park", r"voltage park"),
    ("TensorDock", r"tensordock"),
    ("Jarvislabs", r"jarvis ?labs"),
    ("OVHcloud", r"\bovh(?:cloud)?\b"),
    ("Scaleway", r"scaleway"),
    ("Hetzner", r"hetzner"),
)
_REGION_RES = (
    r"\b(?:us|eu|ap|ca|sa|me|af|il)-(?:east|west|central|north|south|northeast|southeast|northwest|southwest)-\d\b",
    r"\b(?:us|europe|asia|australia|northamerica|southamerica|me|africa)-(?:east|west|central|north|south|"
    r"northeast|southeast|northwest|southwest)\d\b",
    r"\b(?:eastus2?|westus[23]?|centralus|northeurope|westeurope|uksouth|francecentral|germanywestcentral|"
    r"japaneast|southeastasia|australiaeast|swedencentral)\b",
)


_REGION_NAME = (
    r"((?:east|west|central|north|south|northeast|northwest|southeast|southwest|north central|south central|"
    r"west central)\s+(?:us|europe|asia|uk|india|japan|australia|canada|brazil|france|germany|us\s+\d))"
)
_REGION_NAME_RE = re.compile(
    rf"\b{_REGION_NAME}\s+(?:region|data ?cent(?:er|re)|dc)\b|\bregion\s*(?::|=|is|in)?\s*{_REGION_NAME}\b"
)


# Cities that host well-known cloud regions (AWS, GCP, Azure): a city there names where to deploy, but only
# with a cue that it is about hosting ('Frankfurt data residency', 'host in Tokyo'), not an office.
_REGION_CITIES = {
    "frankfurt": "Frankfurt",
    "dublin": "Dublin",
    "london": "London",
    "paris": "Paris",
    "stockholm": "Stockholm",
    "milan": "Milan",
    "zurich": "Zurich",
    "amsterdam": "Amsterdam",
    "madrid": "Madrid",
    "warsaw": "Warsaw",
    "tokyo": "Tokyo",
    "osaka": "Osaka",
    "seoul": "Seoul",
    "singapore": "Singapore",
    "sydney": "Sydney",
    "melbourne": "Melbourne",
    "mumbai": "Mumbai",
    "jakarta": "Jakarta",
    "sao paulo": "Sao Paulo",
    "são paulo": "Sao Paulo",
    "montreal": "Montreal",
    "toronto": "Toronto",
    "northern virginia": "Northern Virginia",
    "oregon": "Oregon",
    "ohio": "Ohio",
    "iowa": "Iowa",
}
_CITY_ALT = "|".join(sorted(_REGION_CITIES, key=len, reverse=True))
_CITY_RE = re.compile(
    rf"\b({_CITY_ALT})\s+(?:region|data ?cent(?:er|re)s?|dc|zone|data residency|residency|hosting|servers?)\b|"
    rf"\b(?:host\w*|deploy\w*|run\w*|serv\w*|region|located|stay|stays|reside\w*|resident)\s+(?:\w+\s+)?"
    rf"(?:in|near|out of)\s+({_CITY_ALT})\b|\bregion\s*(?::|=|is)\s*({_CITY_ALT})\b"
)


def _region(t: str) -> tuple[str, str] | None:
    """(region, the words it came from): a cloud region id, a region's display name, or 'eu' / 'us'."""
    for rx in _REGION_RES:
        m = fast_search(rx, t)
        if m:
            return m.group(0), m.group(0)
    m = fast_search(_REGION_NAME_RE, t)
    if m:
        # A display name ('East US region', 'region: West Europe'), kept as people and Azure write it.
        name = next(g for g in m.groups() if g)
        words = [w.upper() if w in ("us", "uk", "eu") else w.capitalize() for w in name.split()]
        return " ".join(words), m.group(0)
    # The city names are plain words: look for them first, the cue pattern only where one occurs.
    m = fast_search(_CITY_RE, t) if any(city in t for city in _REGION_CITIES) else None
    if m:
        return _REGION_CITIES[next(g for g in m.groups() if g)], m.group(0)
    m = fast_search(
        r"\b(?:in|within|inside) (?:the )?(?:eu|europe|european union)\b|\beu[- ]only\b|"
        r"\beu[- ]based\b|\beu data residency\b",
        t,
    )
    if m:
        return "eu", m.group(0)
    m = fast_search(
        r"\b(?:in|within|inside) the (?:us|usa|united states)\b|\bus[- ]only\b|\bus[- ]based\b", t
    )
    return ("us", m.group(0)) if m else None


def _deployment(t: str, b: _Builder) -> None:
    for name, rx in _PROVIDERS:
        m = fast_search(rx, t)
        if m and not fast_search(
            r"(?:not|no|without|off|leave|leaving|avoid)\s+(?:on\s+|using\s+)?$",
            t[max(0, m.start() - 15) : m.start()],
        ):
            b.set("cloud_provider", name, m.group(0))
            break
    region = _region(t)
    if region:
        b.set("region", region[0], region[1])
    if fast_search(_PURCHASE_CUE, t) and fast_search(
        r"gpu|gpuref|hardware|servers?|nodes?|cards?|dgx|hgx", t
    ):
        b.set("deployment_model", "purchase", "buy")
    elif "gpu_inventory" in b.data or fast_search(
        r"on[- ]prem\w*|our own (?:gpuref\d+ )?(?:hardware|gpus|servers|machines|boxes|nodes|datacenter|data center|cluster)|owned hardware|"
        r"(?:our|in-house|own) (?:datacenter|data center|dc)\b|(?:already|we) (?:own|have) (?:\w+ )?(?:gpus|gpuref)|"
        r"existing (?:gpus|hardware|servers)|bare[- ]metal we own|colo(?:cation)?",
        t,
    ):
        b.set("deployment_model", "owned_hardware", "owned")
    elif "cloud_provider" in b.data or fast_search(
        r"\brent(?:ing|ed|al)?\b|cloud gpus?|in the cloud|on the cloud|cloud[- ]hosted|cloud instances?|"
        r"on[- ]demand|spot instances?|public cloud",
        t,
    ):
        b.set("deployment_model", "cloud_rental", "cloud")
    m = fast_search(rf"\bpue\s*(?:of|is|=|:|at|around|about|~|es|est|ist|è|é|is)?\s*{N}", t) or fast_search(
        rf"{N}\s*pue\b", t
    )
    if m:
        b.set("datacenter_context.cooling_overhead_pue", _num(m.group(1)), m.group(0))
    if fast_search(
        r"amorti[sz]|depreciat|write[- ]?off|written off|writ(?:e|es|ing)\s+(?:\w+\s+){1,2}off|payback|"
        r"pay back|pay off|break[- ]even",
        t,
    ):
        m = fast_search(
            rf"(?:over|across|for|in|of)\s+(?:a\s+)?{N}[\s-]*(years?|yrs?|months?|mos?)\b", t
        ) or fast_search(
            rf"(?<![\w.]){N}[\s-]*(years?|yrs?|months?|mos?)[\s-]+(?:amorti[sz]\w*|depreciat\w*|write[- ]?off|"
            rf"payback)",
            t,
        )
        if m:
            value = _num(m.group(1)) * (12 if m.group(2).startswith("y") else 1)
            b.set("datacenter_context.amortization_period_months", int(value), m.group(0))


_BURST = (
    (
        "moderate",
        r"moderate(?:ly)? (?:bursty|spiky|variable|peaks|spikes|burstiness)|some (?:spikes|bursts|peaks)|"
        r"occasional (?:spikes|bursts|peaks)|somewhat (?:bursty|spiky)|moderate burst",
    ),
    ("low", r"low burstiness|rarely spikes|few spikes|mostly steady|fairly steady"),
    (
        "high",
        r"\bspik(?:y|ey|es)\b|\bburst(?:y|s|ing)?\b|unpredictable (?:traffic|load)|flash (?:sales?|crowds?)|"
        r"sudden (?:spikes|peaks|surges|bursts)|\bsurg(?:e|es|ing)\b|very variable",
    ),
    (
        "diurnal",
        r"diurnal|business hours|office hours|working hours|work hours|9 to[- ]5|9-to[- ]5|\b9-5\b|during the day|"
        r"daytime|peaks? (?:in|during) the (?:morning|day|afternoon|evening)|day/night|daily (?:cycle|pattern)",
    ),
    (
        "steady",
        r"\bsteady\b|constant (?:load|traffic|rate|stream|flow)|flat (?:load|traffic)|evenly (?:spread|"
        r"distributed)|predictable (?:load|traffic)|stable (?:load|traffic)|uniform (?:load|traffic)",
    ),
)


def _burstiness(t: str, b: _Builder) -> None:
    for name, rx in _BURST:
        m = fast_search(rx, t)
        if m:
            b.set("burstiness_pattern", name, m.group(0))
            return


_BATCH_STRONG = (
    r"\bbatch(?:es|ed)?\b(?!\s*size)|nightly|overnight|offline (?:processing|jobs?|inference|batch|pipeline)|"
    r"\bin bulk\b|bulk (?:processing|classification|jobs?|inference)|backfill|every night|cron(?:job| job)?|"
    r"scheduled (?:jobs?|runs?)|once a (?:day|night|week)|process(?:ing)? (?:a |the )?backlog|not real[- ]?time"
)
_TASK_RULES: tuple[tuple[str, str], ...] = (
    ("batch_processing", _BATCH_STRONG),
    (
        "rag_qa",
        r"\brag\b|retrieval|retriev\w+|knowledge ?base|\bkb\b|question[- ]answering|\bq&a\b|\bq & a\b|\bq &a\b|\bq& a\b|\bqa (?:over|on)|"
        r"over (?:our|the|their|internal|company) (?:docs|documentation|wiki|confluence|knowledge|manuals|"
        r"policies|files|pdfs|codebase|handbook|sharepoint|notion)|answer\w* (?:\w+ )?questions (?:about|from|"
        r"over|on|using|based on|against|regarding) (?:our|the|internal|company|their)|search (?:over|across|"
        r"through) (?:our|internal)|(?:internal|company) (?:docs|documentation|wiki)|semantic search|"
        r"document search|chat with (?:our|your|their) (?:docs|documents|pdfs|data|wiki)|ask questions "
        r"(?:about|of|over|on) (?:our|the|their)|grounded in|\bwiki\b|confluence|documentation|"
        # 'document QA', 'questions about policy documents', 'look things up in our document store'.
        r"\b(?:documents?|docs?|pdfs?|contracts?|policy|policies|manuals?|files?|wiki|kb)[- ](?:qa|q ?& ?a|"
        r"question[- ]answering|search|lookup|retrieval)\b|questions? (?:about|on|over|from|regarding|against) "
        r"(?:\w+ ){0,2}(?:documents|docs|pdfs|manuals|policies|files|documentation|wiki|contracts|reports|"
        r"papers|handbooks?)\b|\blook(?:s|ing)? (?:\w+ )?up (?:in|from) (?:our|the|their|a|an)\b|"
        r"\b(?:document|doc|vector|knowledge) (?:store|database|db|index|repository|repo)s?\b|"
        # 'answering questions over ~40k internal PDFs', 'answers IT questions using our runbooks'.
        r"answer\w* (?:\w+ ){0,2}questions? (?:about|from|over|on|using|based on|against|regarding|with|in) "
        r"(?:[\w~-]+ ){0,4}(?:docs|documents|documentation|pdfs|runbooks|playbooks|filings|manuals|policies|"
        r"wikis?|handbooks?|knowledge|reports|papers|sops|records|guides)\b",
    ),
    (
        "code_completion",
        r"auto[- ]?complet\w*|code complet\w*|tab[- ]complet\w*|inline (?:code )?(?:suggestions|"
        r"completions)|copilot|fill[- ]in[- ]the[- ]middle|\bfim\b|complet\w* in (?:the|our|their) "
        r"(?:ide|editor)|(?:ide|editor) (?:plugin|extension|integration)|as (?:they|you|devs|"
        r"developers|people|engineers) type|next[- ]line suggestions|in (?:our|the) (?:ide|editor)",
    ),
    (
        "code_generation",
        r"code[- ]?gen\w*|generat\w* (?:\w+ )?code|writ\w* (?:\w+ )?code|coding (?:assistant|agent|"
        r"help|bot|tool)|code (?:reviews?|reviewer|refactor\w*|assistant|writing)|review\w* (?:prs|"
        r"pull requests|code|diffs)|\bprs\b|pull requests|text[- ]to[- ]sql|sql (?:generation|"
        r"queries)|generat\w* (?:sql|tests|unit tests|functions|scripts)|unit tests|programming "
        r"(?:assistant|help)|developer assistant|agentic coding|coding|pull[- ]requests?|"
        # 'turn Jira tickets into draft pull-request code', 'specs to code' (not 'we want to code less').
        r"\b(?:turn|convert|transform)\w* (?:[\w-]+ ){0,4}(?:into|to) (?:[\w-]+ ){0,3}code\b|"
        r"\b(?:specs?|specifications?|tickets?|issues?|requirements?|designs?|mockups?) (?:in)?to (?:[\w-]+ ){0,2}code\b",
    ),
    (
        "translation",
        r"translat\w*|locali[sz]\w*|from (?:english|german|french|spanish|japanese|"
        r"chinese|italian|portuguese|korean|arabic) (?:to|into)|into (?:english|german|french|spanish|"
        r"japanese|chinese|\d+ languages)",
    ),
    (
        "summarization",
        r"summar\w*|tl;?dr|\bdigests?\b|condens\w*|\brecaps?\b|meeting notes|key points|"
        r"synops\w*|abstracts? (?:of|for)",
    ),
    (
        "content_generation",
        r"marketing (?:copy|content|emails?|text)|blog (?:posts?|articles?)|product descriptions?|"
        r"content (?:generation|creation|writing)|generat\w* (?:\w+ )?(?:content|articles|copy|"
        r"posts|stories|emails|descriptions|ad copy|newsletters)|copy ?writ\w*|\bad[- ]?copy|social "
        r"media (?:posts|content|captions)|newsletters?|creative writing|write (?:\w+ )?"
        r"(?:articles|stories|posts|emails|blogs)|seo (?:content|articles)|draft\w* (?:\w+ )?"
        r"(?:emails|replies|letters|posts)|email draft\w*|drafting emails|email (?:writing|generation)|"
        r"\b(?:copy|content|blog|post|article|caption|slogan|tagline|headline|newsletter|email)s?[- ]"
        r"(?:generat(?:or|ion)|writer)s?\b|social (?:media )?posts?|"
        r"\b(?:spits?|spitting|churns?|churning|pumps?|pumping|cranks?|cranking) out\b",
    ),
    (
        "chatbot",
        r"chat[- ]?bots?|chat (?:assistant|interface|app|widget|support)|conversational|virtual "
        r"(?:assistant|agent)|support (?:bot|assistant|chat)|help[- ]?desk|customer (?:support|service)|"
        r"assistant|\bchat\b|talk to|faq bot|live chat|\bbot\b|chatting",
    ),
    (
        "batch_processing",
        r"classif\w*|tagging|\blabel(?:l)?ing\b|extract\w* (?:\w+ )?(?:fields|entities|data|"
        r"information) from|data extraction|sentiment analysis|categori[sz]\w*",
    ),
    # 'multilingual' qualifies another task ('a multilingual customer support chatbot'): translation only
    # when nothing else is named.
    ("translation", r"multilingual"),
)


def _task(t: str, b: _Builder) -> str | None:
    for task, rx in _TASK_RULES:
        m = fast_search(rx, t)
        if m:
            b.set("task_type", task, m.group(0))
            return task
    return None


_SUBJECTS = (
    (
        "customer support",
        r"customer (?:support|service|care)|support (?:tickets|agents|team|desk|chat)|help[- ]?desk|"
        r"support bot|support (?:knowledge ?base|docs|articles|knowledge)",
    ),
    ("legal", r"\blegal\b|law firm|contracts?\b|lawyers|attorneys|litigation|compliance documents"),
    (
        "healthcare",
        r"medical|clinical|healthcare|health care|hospital|patients?|doctors|clinicians|physicians|"
        r"nurses|pharma\w*",
    ),
    (
        "insurance",
        r"insurance|insurer|underwrit\w*|policyholders?|claims? (?:adjusters?|processing|handling|handlers)",
    ),
    # Invoices alone do not make the deployment a finance one (anyone extracts fields from invoices).
    ("finance", r"financ\w*|banking|\bbanks?\b|trading|accounting|fintech"),
    # Not the 'hr' of '$1/hr' or '40 hr'.
    (
        "human resources",
        r"(?<![/\d])(?<!\d )(?<!per )(?<!an )\bhr\b|human resources|employee handbook|"
        r"recruit\w*|hiring|payroll",
    ),
    (
        "e-commerce",
        # Product descriptions or listings are a kind of text, not a domain.
        r"ecommerce|e-commerce|online (?:store|shop)|product catalog|shoppers|retail",
    ),
    ("education", r"education\w*|students|teachers|school|universit\w*|tutor\w*|learners|course"),
    ("marketing", r"marketing|advertis\w*"),
    ("it operations", r"\bit (?:support|ops|operations|helpdesk)|devops|incident\w*|\blogs\b|on-call|sre\b"),
    (
        "software engineering",
        r"codebase|source code|pull requests|\bprs\b|programming|software (?:development|"
        r"engineering)",
    ),
    # Not 'fair game': a game named as the product, or its players.
    (
        "gaming",
        r"gaming|video games?|\bgames\b|game (?:studio|company|developers?|devs?|servers?|world)s?\b|players|"
        r"\bnpcs?\b",
    ),
    # Summarizing news articles is a content type, not the person's domain: only a news organisation counts.
    (
        "news and media",
        r"\bnews ?(?:room|site|outlet|organi[sz]ation|company|publisher|agency|desk|app|website|portal|"
        r"media)s?\b|journalis\w*|media company|publishing|publishers?\b",
    ),
    # Papers are a kind of text (anyone condenses papers): only a research setting counts.
    ("research", r"scientific research|research (?:lab|institute|group|team)s?\b|academic research"),
    ("travel", r"\btravel\b|hotel|booking|airline"),
    ("real estate", r"real estate|property listings"),
    # Last: used only when nothing more specific is named.
    (
        "internal documentation",
        # Not 'knowledge base': an FAQ knowledge base is as often for customers as for staff.
        r"internal (?:docs|documentation|wiki)|(?:our|company) wiki|confluence|documentation|handbook",
    ),
)


def _subject(t: str, b: _Builder) -> None:
    best: tuple[int, str, str] | None = None
    for name, rx in _SUBJECTS:
        m = fast_search(rx, t)
        if m and name == "internal documentation" and best is not None:
            continue
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name, m.group(0))
    if best:
        b.set("subject_matter", best[1], best[2])


# --- entry point -------------------------------------------------------------------------------------


def extract(text: str, vocabulary: Vocabulary | None = None) -> Extraction:
    """Read a person's message into a :class:`DeploymentIntent` without any model.

    Never raises for odd input: empty, huge, emoji or adversarial text gives a valid (possibly empty)
    intent; values outside the schema's bounds are dropped and reported in ``warnings``.
    """
    vocab = vocabulary or default_vocabulary()
    b = _Builder()
    raw = text or ""
    if len(raw) > MAX_TEXT_CHARS:
        b.warnings.append(f"message truncated to its first {MAX_TEXT_CHARS:,} characters")
        raw = raw[:MAX_TEXT_CHARS]
    description = re.sub(r"\s+", " ", raw).strip()
    if not description:
        return Extraction(intent=DeploymentIntent(), warnings=b.warnings)
    t, mentions = normalize_text(raw, vocab, b.warnings)
    numbers = [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", t)]

    b.set("use_case_description", description[:2000], "text")
    task = _task(t, b)
    _subject(t, b)
    rest = _money(t, b)
    for bnd in people(rest):
        b.set(bnd.field, bnd.value, bnd.source)
    for bnd in batch(rest):
        b.set(bnd.field, bnd.value, bnd.source)
        if bnd.field == "batch_items" and b.data.get("batch_items") == bnd.value:
            # '20,000 documents every night' is the size of a run, not a request rate.
            rest = rest[: bnd.start] + " " * len(bnd.source) + rest[bnd.start + len(bnd.source) :]
    pc = price_class(t)
    if pc is not None:
        b.set(pc.field, pc.value, pc.source)
    _rates(rest, b)
    _latencies(rest, b, task)
    _token_lengths(rest, b)
    _priority(t, b)
    _quality(t, b)
    _reliability(rest, b)
    _gpus(rest, mentions, b, vocab.gpu_vendors)
    _models(rest, mentions, b)
    _burstiness(t, b)
    _deployment(t, b)
    try:
        intent = DeploymentIntent.model_validate(b.data)
    except ValidationError as e:  # a rule combination the per-field checks could not see
        log.warning("rules produced an invalid intent, keeping the fields that validate alone: %s", e)
        intent = DeploymentIntent.model_validate({k: v for k, v in b.data.items() if k != "available_gpus"})
    for w in b.warnings:
        log.info("extract: %s", w)
    return Extraction(
        intent=intent,
        warnings=b.warnings,
        numbers=numbers,
        normalized_text=t,
        unused_numbers=unused_numbers(numbers, b.sources, intent),
    )


_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
# A typed number and a field's value relate by one of these factors (s -> ms, per minute/hour/day -> per
# second, cents -> dollars, years -> months, per year/day -> per month).
_FACTORS = (
    1.0,
    1000.0,
    0.001,
    1 / 60,
    1 / 3600,
    1 / 86400,
    1 / 2_592_000,
    60_000.0,
    0.01,
    12.0,
    1 / 12,
    30.0,
)


def unused_numbers(numbers: list[float], sources: list[str], intent: DeploymentIntent) -> list[float]:
    """The typed numbers no field took: not in the words a value came from, nor equal to a value after a
    unit conversion (a count folded into an inventory, a rate divided out)."""
    left = list(numbers)
    for source in sources:
        for raw in _NUMBER_RE.findall(source):
            if float(raw) in left:
                left.remove(float(raw))
    values: list[float] = []
    for value in _flat_values(intent.stated()):
        values.append(value)

    def taken(n: float) -> bool:
        return any(math.isclose(v, n * f, rel_tol=0.01) for v in values for f in _FACTORS) or any(
            n > 0 and math.isclose(v, 1000.0 / n, rel_tol=0.01) for v in values
        )

    return [n for n in left if not taken(n)]


def _flat_values(data: Any) -> list[float]:
    if isinstance(data, (bool, str)):
        return []
    if isinstance(data, (int, float)):
        return [float(data)]
    if isinstance(data, dict):
        return [v for x in data.values() for v in _flat_values(x)]
    if isinstance(data, list):
        return [v for x in data for v in _flat_values(x)]
    return []


def extract_intent(text: str, vocabulary: Vocabulary | None = None) -> DeploymentIntent:
    return extract(text, vocabulary).intent
