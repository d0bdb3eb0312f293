"""Quantities bound to fields: how many people (and in which sense), batch runs, and price classes.

Pure functions over the extractor's normalised text (lower case, numbers canonical, foreign words already
English, models and GPUs as placeholders). Each returns :class:`Binding` s: the field, the value and the
words it came from, so the caller can mark those numbers as used.

People are counted three ways (the shared contract):
- ``concurrent_users``: at the same moment ('200 concurrent users', '300 people at once');
- ``daily_users``: distinct users per day ('50,000 daily active users', 'DAU ~30k', '1,000 users a day');
- ``total_users``: a population ('5k engineers', 'a team of 40', '1,200 seats', an unqualified
  'for 1000 users').
People who *build* the product ('our team of 3 engineers is shipping…', 'built by 6 contributors', 'a
startup (5 people)') and a business's customers ('we have 40 customers') are not users.

A batch job has items per run, a window and a frequency ('20,000 documents every night, within 6 hours';
'overnight' alone is an 8-hour window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

N = r"(\d+(?:\.\d+)?)"


@dataclass(frozen=True)
class Binding:
    field: str
    value: float | int | str
    source: str
    start: int = 0


# --- people ------------------------------------------------------------------------------------------

_USER_ADJ = (
    r"concurrent|simultaneous|active|daily|monthly|weekly|internal|external|total|registered|named|paying|"
    r"enterprise|end|human|support|sales|customer|call|center|contact|hospital|field|remote|global|peak|our|"
    r"of|and|software|backend|frontend|data|legal|medical|beta|pilot|unique|regular|power|new|existing|"
    r"potential|expected|initial|in-house|inhouse|service|help|desk|hr|it|company|corporate|b2b|retail|bank|"
    r"online|student|clinical|qa|ml|sre|ops|devops|web|mobile|app|platform|marketing|finance|research|claims"
)
_USER_NOUNS = (
    r"users?|people|persons|employees|staff|developers|devs|engineers|programmers|coders|customers|clients|"
    r"agents|students|members|subscribers|visitors|seats|analysts|researchers|lawyers|attorneys|doctors|"
    r"clinicians|physicians|nurses|teachers|reps|representatives|shoppers|players|readers|editors|marketers|"
    r"sellers|colleagues|workers|patients|callers|dau|mau|daus|maus|learners|writers|translators|testers|"
    r"adjusters|underwriters|accountants|auditors|recruiters|consultants|advisors|advisers|technicians|"
    r"operators|pharmacists|scientists|designers|managers|brokers|bankers|traders|paralegals|professors|"
    r"instructors|tutors|volunteers|contractors|dispatchers|investigators|officers|gamers|viewers|fans|"
    r"listeners|streamers|creators|guests|drivers|merchants|residents|citizens|sessions"
)
_USERS_RE = re.compile(rf"(?<![\w.$]){N}\+?\s+(?:(?:{_USER_ADJ})\s+){{0,3}}(?:{_USER_NOUNS})\b")
_USERS_ALT_RE = re.compile(
    rf"(?:user ?base|audience|population|headcount|team|company|org|organization|workforce|staff)"
    rf"\s+(?:of|size of|is|:|=|with|around|about|~|approx\.?|van)\s*(?:around |about |roughly |~ ?)?{N}"
    rf"(?!\s*%)\b"
)
_USERS_PAREN_RE = re.compile(
    rf"\b(?:{_USER_NOUNS}|team|department|group)\s*\(\s*(?:about|around|roughly|approx\.?|approximately|~|"
    rf"ca\.?)?\s*{N}\s*(?:people|persons|users|of them|in total|total)?\s*\)"
)
_USERS_OF_THEM_RE = re.compile(rf"(?<![\w.$]){N}\+?\s+of\s+(?:them|us)\b")
_DAU_PREFIX_RE = re.compile(
    rf"\b(dau|daily active users|daily users)\s*(?:[:=~]|of|is|are|around|about|roughly)*\s*~?\s*{N}\b"
)
_AT_ONCE = r"at once|at the same time|simultaneously|concurrently|in parallel|at any (?:one )?time"
_AT_ONCE_RE = re.compile(rf"(?<![\w.$]){N}\s+(?:(?:people|users|of them)\s+)?(?:{_AT_ONCE})\b")
_CONCURRENT_WORD = re.compile(rf"\b(?:concurrent|simultaneous|{_AT_ONCE})\b")
_DAILY_WORD = re.compile(r"\b(?:daily|daus?)\b")
_DAILY_AFTER = re.compile(r"^\s*(?:\w+\s+){0,3}?(?:(?:a|per|each|every)\s+day\b|/\s*day\b|daily\b)")
_TOTAL_WORD = re.compile(r"\b(?:total|registered|named|maus?)\b")
# People who build the product, and a business's own customers, are not its users.
_BUILDERS_AFTER = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:(?:is|are|was|were|has been|have been|will be)\s+)?"
    r"(?:shipping|building|developing|working on|working|maintaining|writing|arbeitet|works on|built)\b"
)
_BUILDERS_BEFORE = re.compile(
    r"(?:built|developed|maintained|written|made) by\s*$|\b(?:startup|start-up|company|agency|firm|shop|"
    r"studio|team)\s*\(\s*$|\b(?:we are|we're|we're a|we are a)\s+(?:\w+\s+){0,2}(?:team|startup|company) "
    r"of\s*$"
)
_BUSINESS_CUSTOMERS = re.compile(r"\b(?:have|had|signed|got|with)\s+(?:about\s+|around\s+)?$")
_RATE_BEFORE = re.compile(r"(?:\bper|(?<!\bw)/|\bevery|\beach)\s*$")


def _kind(t: str, m: re.Match[str]) -> str:
    after = t[m.end() : m.end() + 30]
    if _CONCURRENT_WORD.search(m.group(0)) or re.match(
        rf"^\s*(?:concurrent|simultaneous|{_AT_ONCE})\b", after
    ):
        return "concurrent_users"
    if _DAILY_WORD.search(m.group(0)) or _DAILY_AFTER.match(after):
        return "daily_users"
    return "total_users"


def people(t: str) -> list[Binding]:
    """User counts with their kind, in text order; builders and business customers left out."""
    found: list[Binding] = []
    for m in _DAU_PREFIX_RE.finditer(t):
        found.append(Binding("daily_users", m.group(2), m.group(0), m.start()))
    for m in _AT_ONCE_RE.finditer(t):
        found.append(Binding("concurrent_users", m.group(1), m.group(0), m.start()))
    for rx in (_USERS_RE, _USERS_ALT_RE, _USERS_PAREN_RE):
        for m in rx.finditer(t):
            before = t[max(0, m.start() - 40) : m.start()]
            if _RATE_BEFORE.search(before[-12:]) or _BUILDERS_BEFORE.search(before):
                continue
            if _BUILDERS_AFTER.match(t[m.end() : m.end() + 40]):
                continue
            if re.search(r"(?:customers|clients)$", m.group(0)) and _BUSINESS_CUSTOMERS.search(before[-25:]):
                continue
            # 'sessions' count people only at the same moment ('250 simultaneous sessions').
            kind = _kind(t, m)
            if m.group(0).endswith("sessions") and kind != "concurrent_users":
                continue
            found.append(Binding(kind, m.group(1), m.group(0), m.start()))
    for m in _USERS_OF_THEM_RE.finditer(t):
        if re.search(rf"\b(?:{_USER_NOUNS})\b", t[max(0, m.start() - 150) : m.start()]):
            found.append(Binding(_kind(t, m), m.group(1), m.group(0), m.start()))
    out: list[Binding] = []
    for bnd in sorted(found, key=lambda b: b.start):
        value = float(bnd.value)
        if value != int(value) or value < 1:
            continue
        out.append(Binding(bnd.field, int(value), bnd.source, bnd.start))
    return out


# --- batch runs --------------------------------------------------------------------------------------

_BATCH_CUE = re.compile(
    r"\bbatch(?:es|ed)?\b|nightly|overnight|every night|each night|per night|\bcron\b|backfill|\bin bulk\b|"
    r"once a (?:day|night|week|month)|every (?:week|month)|\bweekly\b|\bmonthly (?:job|run|batch)|\betl\b|"
    r"offline (?:job|processing|pipeline)"
)
_RUNS: tuple[tuple[str, float], ...] = (
    (
        r"nightly|every night|each night|per night|every day|each day|once a day|once a night|daily (?:batch|"
        r"job|run)",
        30.0,
    ),
    (r"weekly|once a week|every week|each week|per week|a week", 4.3),
    (r"once a month|every month|each month|monthly (?:batch|job|run)", 1.0),
)
_ITEM_NOUNS = (
    r"documents?|docs|pdfs?|tickets|reviews|descriptions|contracts|records|items|files|emails|images|pages|"
    r"articles|transcripts|invoices|rows|messages|requests|prompts|reports|calls|claims|listings|products|"
    r"notes|papers|filings|entries|forms|receipts|chats|conversations|logs"
)
_ITEMS_RE = re.compile(rf"(?<![\w.$]){N}\s+(?:[a-z'-]+\s+){{0,2}}?(?:{_ITEM_NOUNS})\b")
_RATE_AFTER = re.compile(
    r"\s*(?:(?:(?:per|a|an|each|every)\s+|/\s*)(?:second|sec|s|minute|min|hour|hr|h|day|d)\b|daily\b|hourly\b)"
)
_WINDOW_RE = re.compile(
    rf"(?:within|in|under|inside|window of|deadline(?: of)?|by|takes?|done in|finish(?:ed)? in|"
    rf"complete in)\s+"
    rf"(?:about\s+|roughly\s+|~\s*)?{N}\s*(?:hours?|hrs?|h)\b|(?<![\w.]){N}[\s-]*(?:hours?|hrs?|h)[\s-]+"
    rf"(?:window|deadline|slot)\b"
)
_CLOCK_RE = re.compile(
    r"(?:starts?|start|begins?|from)\s+(?:at\s+)?(\d{1,2})\s*(am|pm)\b.{0,40}?"
    r"(?:done|finished|complete|ready|until|till|to|by)\s+(?:by\s+)?(\d{1,2})\s*(am|pm)\b"
)


def _hour24(h: str, ampm: str) -> int:
    value = int(h) % 12
    return value + 12 if ampm == "pm" else value


def batch(t: str) -> list[Binding]:
    """Items per run, the run's window in hours and runs per month, when the text describes a batch job."""
    cue = _BATCH_CUE.search(t)
    if not cue:
        return []
    out: list[Binding] = []
    for rx, per_month in _RUNS:
        m = re.search(rf"\b(?:{rx})\b", t)
        if m:
            out.append(Binding("batch_runs_per_month", per_month, m.group(0), m.start()))
            break
    for items in _ITEMS_RE.finditer(t):
        value = float(items.group(1))
        # '20 million documents per day' / '150 requests per second' are rates, not the size of a run.
        if value < 1 or value != int(value) or _RATE_AFTER.match(t, items.end()):
            continue
        out.append(Binding("batch_items", int(value), items.group(0), items.start()))
        break
    window = _WINDOW_RE.search(t)
    clock = _CLOCK_RE.search(t)
    if window:
        hours = float(window.group(1) or window.group(2))
        out.append(Binding("batch_window_hours", hours, window.group(0), window.start()))
    elif clock:
        start, end = _hour24(clock.group(1), clock.group(2)), _hour24(clock.group(3), clock.group(4))
        out.append(
            Binding("batch_window_hours", float((end - start) % 24 or 24), clock.group(0), clock.start())
        )
    elif re.search(r"\bovernight\b|\bnightly\b|\b(?:every|each|per|a) night\b", t):
        # A job that runs at night has the night: 8 hours (the contract's reading of 'overnight').
        out.append(Binding("batch_window_hours", 8.0, "overnight", 0))
    return out


# --- price classes -----------------------------------------------------------------------------------

_HYPERSCALERS = r"aws|gcp|azure|amazon web services|google cloud"
_NEGATED = re.compile(r"\b(?:no|not|never|without|avoid|but no)\s+(?:\w+\s+)?$")


def price_class(t: str) -> Binding | None:
    """The class of price sources the person accepts, only when they state it."""
    m = re.search(r"\bmainstream (?:gpu )?(?:clouds?|providers?)\b", t)
    if m and not _NEGATED.search(t[max(0, m.start() - 20) : m.start()]):
        return Binding("price_class", "mainstream", m.group(0), m.start())
    for m in re.finditer(
        r"\b(?:spot(?: instances?)?|marketplaces?|preemptible|interruptible|community cloud)\b", t
    ):
        if not _NEGATED.search(t[max(0, m.start() - 20) : m.start()]):
            return Binding("price_class", "marketplace", m.group(0), m.start())
    m = re.search(
        rf"\bhyperscalers?\b|\bone of the big (?:three|3)\b|"
        rf"\b(?:{_HYPERSCALERS})\s*(?:/|,|or|and)\s*(?:{_HYPERSCALERS})\b|"
        rf"\b(?:must|has to|have to|needs? to|only)\s+(?:be\s+|run\s+|stay\s+)?(?:on|in|with)\s+"
        rf"(?:{_HYPERSCALERS})\b",
        t,
    )
    if m and not _NEGATED.search(t[max(0, m.start() - 20) : m.start()]):
        return Binding("price_class", "hyperscaler", m.group(0), m.start())
    return None
