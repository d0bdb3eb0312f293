"""Text normalisation for the offline extractor: one canonical form for the rules and the quantity grammar.

Lower case; foreign words the rules care about rewritten into English (``multilingual.to_english``);
misspellings of key words fixed; number words turned into digits; '10k' / '1,000' / '1.5 million' / '10^12' /
'5.000 Dollar' / '99,9 %' turned into plain numbers; negative numbers hidden (with a warning); model and GPU
names replaced by placeholders (``modelrefN`` / ``gpurefN``) that point into :class:`Mentions`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from app.intent.multilingual import to_english
from app.intent.vocabulary import Vocabulary

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
    "lawyers",
    "contracts",
    "finish",
    "finished",
    "invoices",
    "tickets",
    "reviews",
    "simultaneous",
    "students",
    "analysts",
    "doctors",
    "nurses",
    "patients",
    "healthcare",
    "insurance",
    "finance",
    "education",
    "marketing",
    "window",
    "overnight",
    "average",
    "priority",
    "purchase",
    "amortization",
    "amortisation",
    "electricity",
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
    # Whole words only: 'documentação' and 'qualité' are not misspelt 'documents' and 'quality'.
    return _SPELL_WORD_RE.sub(lambda m: _corrected(m.group(0)), text)


_SPELL_WORD_RE = re.compile(r"(?<![a-zà-ÿ])[a-z]{5,}(?![a-zà-ÿ])")


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
        return prefix + fmt(value) + (" " if raw.endswith(" ") else "")

    # 'a few hundred' is vague: keep it out of the numbers ('hundreds' is not a number word).
    text = re.sub(
        r"\b(?:a few|few|several|many|a couple(?: of)?|couple(?: of)?) (hundred|thousand|million)s?\b",
        r"some \1s",
        text,
    )
    text = re.sub(r"\bhalf an? (second|minute|hour|day)\b", r"0.5 \1", text)
    text = re.sub(r"\b(under|within|below|in|than|about|around) an? (second|minute)\b", r"\1 1 \2", text)
    text = re.sub(r"\b(\d+(?:\.\d+)?) and a half\b", lambda m: fmt(float(m.group(1)) + 0.5), text)
    return _NUMBER_WORD_RE.sub(repl, text)


def fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e18:
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


_COUNT_NOUNS = (
    r"users?|people|persons|employees|staff|developers|devs|engineers|customers|clients|agents|students|"
    r"members|subscribers|visitors|seats|analysts|researchers|lawyers|attorneys|doctors|clinicians|nurses|"
    r"teachers|reps|representatives|shoppers|players|readers|editors|marketers|sellers|colleagues|workers|"
    r"patients|callers|accounts|requests|queries|tokens|documents|docs|tickets|calls|messages|employees|"
    r"nutzer|benutzer|mitarbeiter|usuarios|utilisateurs|utenti|gebruikers|empleados|employés|token|"
    r"invoices|contracts|reports|records|emails|articles|reviews|images|forms|pages|files|products|residents|"
    r"citizens|programmers|items|rows|prompts|transcripts|claims|orders"
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


_UNREADABLE_NUMBER = "⟨?⟩"


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
        try:
            if exp:
                if len(exp) > 3:
                    return m.group(0)
                base = base ** int(exp) if exp1 else base * 10 ** int(exp)
            value = base * _MULTIPLIERS.get(word_mult or short_mult or "", 1.0)
        except OverflowError:
            value = math.inf
        # '1e309', '9^999', four hundred nines: beyond a float, so no quantity can hold it. Replaced by a mark
        # no rule reads as a number (left as digits, each rule's float() would give inf and int() would fail).
        return fmt(value) if math.isfinite(value) else _UNREADABLE_NUMBER

    return _NUMERIC_RE.sub(repl, text)


@dataclass
class Mentions:
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


def normalize_text(text: str, vocab: Vocabulary, warnings: list[str] | None = None) -> tuple[str, Mentions]:
    """Lower-cased, spell-fixed text with numbers canonical and models/GPUs as 'modelrefN'/'gpurefN'.

    Foreign number words and units are rewritten into English first; negative numbers are removed (with a
    warning appended to ``warnings``).
    """
    t = text.translate(_UNICODE).lower()
    t = re.sub(r"[ \t\r\f\v]+", " ", t)
    # 'ca. 150 Token', 'approx. 2k': an abbreviation's period is not a sentence end.
    t = re.sub(r"\b(?:ca|approx|appr|env|aprox|ong)\.\s", "about ", t)
    # Chat spellings the binders need ('per nite', 'thru').
    t = re.sub(r"\bnite(ly)?\b", lambda m: "night" + (m.group(1) or ""), t)
    t = to_english(t)
    # '8xA100' is a count and a GPU: split them so the GPU name starts a word.
    t = _COUNT_X_GPU_RE.sub("x ", t)
    mentions = Mentions(models=[], gpus=[])
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
    # Clock times ('02:00-06:00') are times of day, not quantities: kept whole as 'clock0200'.
    t = re.sub(
        r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])",
        lambda m: f"clock{int(m.group(1)):02d}{m.group(2)}",
        t,
    )
    t = _words_to_digits(t)
    t = _canonical_numbers(t)
    # '10 grand' is ten thousand dollars.
    t = re.sub(
        r"(?<![\w.])(\d+(?:\.\d+)?|an?) grand\b",
        lambda m: fmt((1.0 if m.group(1) in ("a", "an") else float(m.group(1))) * 1000) + " dollars",
        t,
    )
    t = re.sub(r"[ \t]+", " ", t)
    return t, mentions
