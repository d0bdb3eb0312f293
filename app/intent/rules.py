"""Deterministic rules for what is not a quantity: task, domain, priority, quality, GPUs and models named,
provider, region, deployment model, burstiness; and the entry point that runs normalisation, the quantity
grammar (``app.intent.quantities``) and these rules.

It sets a field only when the text states it or clearly implies it; defaults come later from the use-case
template. A value outside the schema's bounds is dropped with a warning, never clamped. The categorical
fields are then checked against labelled examples by ``app.intent.extractor`` (see
``docs/intent-extraction.md`` for which method decides each field and why).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.intent.domains import find_domain
from app.intent.fastsearch import search as fast_search
from app.intent.normalize import Mentions, normalize_text
from app.intent.quantities import (
    batch,
    latencies,
    money,
    people,
    price_class,
    rates,
    reliability,
    token_lengths,
)
from app.intent.schema import DeploymentIntent
from app.intent.spans import Builder, N, num, sentence, window_before
from app.intent.vocabulary import Vocabulary, default_vocabulary

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 50_000


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
    # The domain was named ('healthcare', 'law firm'), not only suggested by its words ('patients').
    subject_named: bool = False


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
    # 'quality of the answers is the top priority', 'budget is the main constraint' (up to three words between).
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})(?:\s+[\w']+){{0,3}}?\s+(?:is|are)\s+(?:our\s+|the\s+)?(?:top|main|first|"
    rf"highest|number one|#1|primary|biggest|absolute)\s+(?:priority|concern|goal|constraint|driver)"
    # 'top priority: the cost' (foreign 'lo más importante es el costo' is rewritten to this).
    rf"|(?:top priority|main priority|the priority is|our priority is|what matters most is)\s*:?\s*"
    rf"(?:the|el|la|le|il|lo|o|a|de|die|der|das|les|los|het)?\s*({_P_LAT}|{_P_COST}|{_P_ACC})"
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})\s+(?:matters|counts)\s+(?:the\s+)?most"
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})\s+more than anything"
    # 'latency is important but cost matters more'.
    rf"|({_P_LAT}|{_P_COST}|{_P_ACC})\s+(?:matters|counts|is|are)\s+(?:much\s+|far\s+|even\s+|way\s+)?more"
    rf"(?:\s+important)?(?!\s+than)(?=\s*(?:[.;,!)]|$|to us|for us))"
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


def _priority(t: str, b: Builder) -> None:
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
    # 'should feel snappy, under 2 seconds': a feel word next to a stated latency target describes that
    # target; alone ('needs to feel instant') it says latency comes first.
    if "latency" in found and any(k.startswith(("target_ttft", "target_tpot", "target_e2e")) for k in b.data):
        cues = [m.group(0) for m in re.finditer(_PRIORITY_CUES["latency"], cleaned)]
        if cues and all(re.fullmatch(r"snappy|instant\w*", c) for c in cues):
            found.remove("latency")
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


def _quality(t: str, b: Builder) -> None:
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


# Words joining a list of GPUs, in the six languages ('T4 of L4', 'T4 ou L4', 'T4 oder L4').
_GPU_JOINERS = r",|or|and|nor|/|of|ou|o|oder|y|e|et|und|en"
_NEG_BEFORE = re.compile(
    r"(?:\bnot|\bno|\bnever|\bwithout|\bdon'?t|\bdo not|\bexcept|\bexcluding|\bexclude|\bavoid(?:ing)?|\bbut not|\brather than|"
    r"\binstead of|\bother than|\banything but|can'?t use|cannot use|don'?t want|no access to|don'?t have|"
    r"\bban(?:ned)?|\bskip|\bnothing (?:on|from)|\bnone from|can'?t get|cannot get|unable to get|couldn'?t get|no quota for|"
    r"(?:can'?t|cannot|unable to) (?:get|obtain|secure) (?:any )?(?:quota|capacity|allocation|access)s? (?:for|on|to))\s+(?:(?:any|the|our|use|using|on|an?|to|run on|running on|deploy on)\s+)*"
    rf"(?:gpuref\d+s?\s*(?:{_GPU_JOINERS})\s*)*$"
)
# The same negators with a verb or two between ('no queremos usar T4', 'we don't want to touch the H100'),
# not a quantity or a hedge ('not more than 2 H100', 'not sure about L4', 'no need for H200').
_NEG_LOOSE = re.compile(
    r"\b(?:no|not|never|don'?t|do not|doesn'?t|won'?t|cannot|can'?t|rather no)\s+"
    r"(?:(?!(?:more|less|fewer|than|only|just|sure|even|enough|yet|necessarily|need|problem|issue|matter|"
    r"preference|objection|longer|all|always)\b)[a-zà-ÿ']+\s+){1,4}"
    rf"(?:gpuref\d+s?\s*(?:{_GPU_JOINERS})\s*)*$"
)
_NEG_AFTER = re.compile(
    # A list shares its verdict: 'L4 and T4 are out'.
    rf"^\s*(?:s\s+)?(?:(?:{_GPU_JOINERS})\s*gpuref\d+s?\s*)*(?:(?:is|are)\s+not\s+(?:an option|allowed|available|possible|ok|okay|supported)|"
    # A bare 'not' closing the clause: 'AMD MI300X not.'
    r"not\s*(?:[.;!,)]|$)|"
    r"(?:isn'?t|aren'?t)\s+(?:an option|allowed|available|possible|ok|okay|supported)|"
    r"(?:is|are)\s+(?:out|excluded|off the table|banned|too (?:slow|expensive|small|old))|(?:are|is)\s+a no[- ]go)"
)
_OWNED_CUE = re.compile(
    r"\b(?:own|we have|we've got|we got|we own|we already (?:have|own)|already (?:have|own)|owned|in[- ]house|"
    r"on[- ]prem\w*|sitting idle|idle|spare|existing|we bought|we purchased|in our (?:datacenter|data center|dc|"
    r"cluster|rack|lab|basement)|have access to \d+)\b"
)
_PURCHASE_CUE = re.compile(
    r"\b(?:buy|buying|purchase|purchasing|capex|acquire|procure|procurement|invest in|order(?:ing)? (?:some|new)|"
    r"(?:will|to) be (?:purchased|bought|acquired))\b"
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
    r"(?<![\w.])(\d+)\s+(?:nodes?|servers?|machines?|boxes|hosts?|racks?|systems?)\s+(?:of|with)(?:\s+each)?\s+"
    r"\d+\s*(?:x\s*)?$"
)


_GPU_IN_PASSING_AFTER = re.compile(
    r"^\s*s?\s*(?:prices?|pricing|costs?|quotes?|shortages?|lead times?|benchmarks?|availability is)\b"
)
_GPU_PAST = re.compile(
    r"\b(?:last (?:year|month|quarter)|benchmarked|used to|previously|in the past|back in|tried|tested|evaluated)\b"
)


def _is_question(t: str, pos: int) -> bool:
    """Whether the sentence around ``pos`` asks which GPU to use ('should we use L4 or L40S?'); a what-if
    ('what if we use L40S?') is an edit, not a question about the options."""
    ends = [i for i in (t.find(c, pos) for c in ".!?\n") if i >= 0]
    if not ends or t[min(ends)] != "?":
        return False
    return bool(fast_search(r"\b(?:should|which|whether|or)\b", sentence(t, pos)))


# '2 L4s max': a cap on the deployment, not hardware owned.
_CAP_AFTER = re.compile(r"^\s*s?\s*(?:max|maximum|at most|tops|or fewer|or less)\b")
_EACH_AFTER = re.compile(r"^\s*s?\s*(?:each|apiece|per (?:box|server|node|machine|host))\b")
_MACHINES_RE = re.compile(
    r"(?<![\w.])(\d+)\s+(?:[a-z]+\s+)?(?:boxes|servers|nodes|machines|hosts|systems|racks)\b"
)


def _gpus(t: str, mentions: Mentions, b: Builder, gpu_vendors: dict[str, str]) -> None:
    run_counts: list[int] = []
    available: list[str] = []
    excluded: list[str] = []
    inventory: dict[str, int] = {}
    inventory_sources: list[str] = []
    for m in re.finditer(r"gpuref(\d+)", t):
        gpu = mentions.gpus[int(m.group(1))]
        near = window_before(t, m.start(), 60, stop=".;!?,\n")
        after = t[m.end() : m.end() + 40]
        if fast_search(_NEG_BEFORE, near) or fast_search(_NEG_LOOSE, near) or _NEG_AFTER.match(after):
            excluded.append(gpu)
            continue
        sent = sentence(t, m.start())
        before30 = t[max(0, m.start() - 30) : m.start()]
        count_before = fast_search(
            r"(?<![\w.])(\d+)\s*(?:x\s*)?(?:(?:nvidia|idle|spare|existing|owned|more|old|older|unused|gpus?)\s+)*$",
            before30,
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
        # Buying said before the GPU in its clause makes it a purchase, not hardware owned ('we'll buy 8 H100';
        # but 'we own 4 GH200 … new hardware will be purchased' owns them).
        # 'our' owns only what it names ('our 8 H100s'), not every GPU in a sentence about 'our engineers'.
        owned = bool(
            fast_search(_OWNED_CUE, sent)
            or fast_search(
                r"\bour\s+(?:\d+\s*(?:x\s*)?)?(?:[a-z]+\s+){0,2}$", t[max(0, m.start() - 30) : m.start()]
            )
        ) and not _buying(window_before(t, m.start(), 60, stop=".;!?,\n"))
        if _CAP_AFTER.match(after):
            owned = False
        if owned and count_m:
            count = int(next(g for g in count_m.groups() if g))
            nodes = fast_search(_NODES_OF_RE, before30)
            if count_m is count_before and nodes:
                count *= int(nodes.group(1))
                inventory_sources += [nodes.group(0)]
            elif count_m is count_before and _EACH_AFTER.match(after):
                # 'two DGX boxes, 8x H100 each': the count is per machine.
                machines = fast_search(_MACHINES_RE, window_before(t, m.start(), 80))
                if machines:
                    count *= int(machines.group(1))
                    inventory_sources += [machines.group(0), count_m.group(0)]
            if 1 <= count <= 100_000:
                inventory[gpu] = inventory.get(gpu, 0) + count
                continue
        if _GPU_IN_PASSING_AFTER.match(after) or fast_search(_GPU_PAST, sent) or _is_question(t, m.start()):
            # 'H100 prices are crazy', 'we benchmarked on an A100 last year', 'should we use L4 or L40S?':
            # talk about a GPU, not a statement of what may be used.
            continue
        available.append(gpu)
    # A vendor ruled out rules out each of its GPUs: 'we'd rather not use AMD'.
    vendors = [v for v in ("amd", "nvidia", "intel") if v in t]
    for vm in re.finditer(rf"\b({'|'.join(vendors)})\b", t) if vendors else ():
        near = window_before(t, vm.start(), 60, stop=".;!?,\n")
        # 'no Nvidia consumer cards' rules out a kind of card, not the vendor.
        if re.match(r"\s+(?:consumer|gaming|desktop|geforce|rtx|older|old|legacy|small)\b", t[vm.end() :]):
            continue
        if fast_search(_NEG_BEFORE, near) or _NEG_AFTER.match(t[vm.end() : vm.end() + 40]):
            excluded += [g for g, v in gpu_vendors.items() if v.lower() == vm.group(1)]
    if excluded:
        b.set("excluded_gpus", list(dict.fromkeys(excluded)), "not …")
    avail = [g for g in dict.fromkeys(available) if g not in excluded and g not in inventory]
    if avail:
        b.set("available_gpus", avail, "gpu mentions")
    if inventory:
        b.set(
            "gpu_inventory",
            [{"gpu": g, "count": c} for g, c in inventory.items()],
            " ".join(["owned gpus", *inventory_sources]),
        )
    cap = fast_search(
        rf"(?:at most|no more than|max(?:imum)?(?: of)?|up to|limit(?:ed)? to|capped at|cap of|only have|only|"
        rf"just|budget for)\s*{N}\s*(?:gpuref\d+s?|gpu'?s?|cards?|accelerators?)(?![\w])",
        t,
    ) or fast_search(rf"(?<![\w.]){N}\s*(?:x\s*)?(?:gpus?|gpuref\d+s?)\s*(?:max|maximum|at most|tops)\b", t)
    # 'H100s only, at most 2 of them': 'them' are the GPUs named just before.
    cap = cap or fast_search(
        rf"gpuref\d+s?\b[^.;!?\n]{{0,80}}\b(?:at most|no more than|max(?:imum)?(?: of)?|up to)\s*{N}\s*"
        rf"of\s+(?:them|those)\b",
        t,
    )
    if cap:
        b.set("max_gpus", int(num(cap.group(1))), cap.group(0))
    elif run_counts:
        b.set("max_gpus", max(run_counts), "run on N gpus")
    elif fast_search(
        r"\b(?:a single|1|one) gpu\b(?!\s*(?:per|each))|\bsingle[- ]gpu\b|\b(?:on|have|with) a single gpuref",
        t,
    ):
        b.set("max_gpus", 1, "single gpu")


_REJECTED_BEFORE = re.compile(
    r"\b(?:tried|tested|benchmarked|used to (?:use|run)|evaluated|moved away from|switched (?:away )?from|dropped|"
    r"migrat\w* (?:away )?from|moving (?:away )?from|upgrad\w* from|"
    r"replaced|ditched|gave up on|rejected)\s+(?:\w+\s+){0,2}$"
)
_REJECTED_AFTER = re.compile(
    r"\b(?:was|were|is|it'?s|turned out)\s+(?:\w+\s+)?(?:bad|terrible|awful|poor|useless|disappointing|"
    r"too (?:slow|weak|dumb|expensive))\b|\b(?:didn'?t|did not|doesn'?t|does not) (?:work|cut it|perform)"
)


def _rejected_in_clause(t: str, end: int) -> bool:
    """The verdict after a model in its own sentence ('GPT-J 6B on two V100s and it was bad')."""
    rest = t[end:]
    stop = re.search(r"[.;!?\n]", rest)
    return bool(fast_search(_REJECTED_AFTER, rest[: stop.start() if stop else 200]))


def _models(t: str, mentions: Mentions, b: Builder) -> None:
    preferred: list[str] = []
    for m in re.finditer(r"modelref(\d+)", t):
        near = window_before(t, m.start(), 40, stop=".;!?,\n")
        if fast_search(
            r"(?:\bnot|\bno|\bwithout|\bavoid|\bexcept|\bother than|\binstead of|\brather than)\s+"
            r"(?:(?:use|using|the|a)\s+)*$",
            near,
        ):
            continue
        # A model tried and found wanting is not a preference: 'we tried GPT-J and it was bad'.
        if fast_search(_REJECTED_BEFORE, near) or _rejected_in_clause(t, m.end()):
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
        r"(?:ed)?|rent(?:ing)?(?: gpus)?) (?:on|with|at|from)|via) lambda\b(?! function)|"
        r"\blambda (?:is|would be|works) (?:fine|ok|okay|good|great|preferred)",
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


_ANY_PROVIDER = "|".join(f"(?:{rx})" for _, rx in _PROVIDERS)
# A provider in a list ('AWS, GCP or Azure') or given as an example ('marketplaces like Vast.ai') is a kind
# of provider, not the one chosen.
_PROVIDER_LIST_AFTER = re.compile(rf"^\s*(?:,|/|or|and)\s*(?:{_ANY_PROVIDER})")
_PROVIDER_LIST_BEFORE = re.compile(rf"(?:{_ANY_PROVIDER}|\blambda)\s*(?:,|/|or|and)\s*$")
# 'Lambda, CoreWeave style', 'CoreWeave-like': a kind of provider, not the one chosen.
_PROVIDER_STYLE_AFTER = re.compile(r"^\s*-?\s*(?:style|like|type|etc)\b")
_PROVIDER_EXAMPLE = re.compile(r"\b(?:like|such as|e\.g\.?|for example|for instance|say)\s*$")


# 'compare buy vs rent', 'rent or buy?': both options named, neither chosen by these words.
_BUY_OR_RENT = re.compile(
    r"\b(?:buy\w*|purchas\w*|rent\w*)\s*(?:vs\.?|versus|or|and|/)\s*(?:keep\s+|continue\s+|just\s+)?"
    r"(?:buy\w*|purchas\w*|rent\w*)\b"
)


def _deployment(t: str, b: Builder) -> None:
    t = _BUY_OR_RENT.sub(" ", t)
    for name, rx in _PROVIDERS:
        m = fast_search(rx, t)
        if not m:
            continue
        before = t[max(0, m.start() - 25) : m.start()]
        if fast_search(r"(?:not|no|without|off|leave|leaving|avoid)\s+(?:on\s+|using\s+)?$", before[-15:]):
            continue
        if (
            _PROVIDER_LIST_AFTER.match(t[m.end() : m.end() + 40])
            or _PROVIDER_STYLE_AFTER.match(t[m.end() : m.end() + 12])
            or fast_search(_PROVIDER_LIST_BEFORE, before)
            or fast_search(_PROVIDER_EXAMPLE, before)
        ):
            break
        b.set("cloud_provider", name, m.group(0))
        break
    region = _region(t)
    if region:
        b.set("region", region[0], region[1])
    # Buying what: hardware named, or a datacenter cost (power price, amortisation) that only owners have.
    if _buying(t) and (
        fast_search(r"gpu|gpuref|hardware|servers?|nodes?|cards?|dgx|hgx", t)
        or fast_search(r"\bkwh\b|\bpue\b", t)
        or fast_search(_AMORT_CUE, t)
    ):
        b.set("deployment_model", "purchase", "buy")
    elif fast_search(
        # Owning GPUs is not yet deciding to run on them: the deployment model is owned hardware when the
        # text says to use them (or says on-prem, our own servers, a colo, idle cards waiting for work).
        r"on[- ]prem\w*|our own (?:\d+\s*x?\s*)?(?:gpuref\d+ )?(?:hardware|gpus|servers|machines|box|boxes|nodes|datacenter|data center|cluster)|owned hardware|"
        r"existing (?:gpus|hardware|servers)|bare[- ]metal we own|(?:gpus?|gpuref\d+s?) owned|owned (?:gpus|gpuref)|colo(?:cation)?|sitting idle|\bidle\b|lying around|spare|"
        r"\b(?:run|ran|running|serve|served|serving|host|hosted|hosting|deploy|deployed|deploying|use|used|using|"
        r"put|usarlas|usarlos|utiliser|"
        r"nutzen|gebruiken|usare|utilizar)\b",
        t,
    ) and (
        "gpu_inventory" in b.data or fast_search(r"on[- ]prem|our own|owned hardware|colo|bare[- ]metal", t)
    ):
        b.set("deployment_model", "owned_hardware", "owned")
    elif fast_search(
        r"\brent(?:ing|ed|al)?\b|cloud gpus?|in the cloud|on the cloud|cloud[- ]hosted|cloud instances?|"
        # Accepting spot capacity is a price class, not yet a decision to rent (the independent writers agree).
        r"on[- ]demand|public cloud",
        t,
    ):
        b.set("deployment_model", "cloud_rental", "cloud")
    m = fast_search(
        rf"\bpue\s*(?:of|is|=|:|at|around|about|~|es|est|ist|è|é|is)?\s*(?:around\s+|about\s+|~\s*)?{N}", t
    ) or fast_search(rf"{N}\s*pue\b", t)
    if m:
        b.set("datacenter_context.cooling_overhead_pue", num(m.group(1)), m.group(0))
    _amortisation(t, b)


# Words that say over how long bought hardware is paid off ('amortised over 4 years', 'a 5-year lifetime',
# 'depreciate in 36 months', German 'schreiben sie über 48 Monate ab').
_AMORT_CUE = re.compile(
    r"amorti[sz]\w*|depreciat\w*|write[- ]?off|written off|writ(?:e|es|ing)\s+(?:\w+\s+){1,2}off|payback|"
    r"pay back|pay off|break[- ]even|life ?time|useful life|life ?span|service life|life ?cycle|"
    r"\bschreib\w*\s+(?:\S+\s+){0,5}?ab\b"
)
_DURATION_RE = re.compile(rf"(?<![\w.]){N}[\s-]*(years?|yrs?|months?|mos?)\b")


def _amortisation(t: str, b: Builder) -> None:
    """The duration nearest an amortisation word in its sentence, in months."""
    for cue in _AMORT_CUE.finditer(t):
        sent_start = max(t.rfind(c, 0, cue.start()) for c in ".;!?\n") + 1
        sent = sentence(t, cue.start())
        offset = t.find(sent, max(0, sent_start - 1)) if sent else -1
        best: tuple[int, re.Match[str]] | None = None
        for m in _DURATION_RE.finditer(sent):
            pos = (offset if offset >= 0 else 0) + m.start()
            distance = abs(pos - cue.start())
            if best is None or distance < best[0]:
                best = (distance, m)
        if best is None:
            continue
        m = best[1]
        value = num(m.group(1)) * (12 if m.group(2).startswith("y") else 1)
        b.set("datacenter_context.amortization_period_months", int(value), m.group(0))
        return


# 'rather rent than buy', "don't want to buy anything new", 'no need to purchase': buying ruled out.
_NOT_BUYING = re.compile(
    r"(?:\bthan|\bnot|\bnon|\bno need to|\bnever|n't|\bdont|\binstead of|\bno)\s+(?:\w+\s+){0,2}$"
)


def _buying(t: str) -> bool:
    return any(
        not fast_search(_NOT_BUYING, t[max(0, m.start() - 25) : m.start()]) for m in _PURCHASE_CUE.finditer(t)
    )


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
        r"\bsteady\b|constant (?:load|traffic|rate|stream|flow|24/7|all day|around the clock)|(?:load|traffic) is constant|flat (?:load|traffic)|evenly (?:spread|"
        r"distributed)|predictable (?:load|traffic)|stable (?:load|traffic)|uniform (?:load|traffic)",
    ),
)


def _burstiness(t: str, b: Builder) -> None:
    for name, rx in _BURST:
        m = fast_search(rx, t)
        if m:
            b.set("burstiness_pattern", name, m.group(0))
            return


_BATCH_STRONG = (
    r"\bbatch(?:es|ed)?\b(?!\s*size)|nightly|overnight|(?:every|each) (?:week|month)|"
    r"\b(?:daily|weekly|monthly) (?:\w+ )?(?:job|run|backfill|pipeline)s?\b|offline (?:processing|jobs?|inference|batch|pipeline)|"
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
        r"papers|handbooks?|guidelines|guidance|protocols|regulations|procedures|linee guida|richtlinien)\b|"
        r"\bquestions?[- ]answers?\b|\blook(?:s|ing)? (?:\w+ )?up (?:in|from) (?:our|the|their|a|an)\b|"
        r"\b(?:document|doc|vector|knowledge) (?:store|database|db|index|repository|repo)s?\b|"
        # 'answering questions over ~40k internal PDFs', 'answers IT questions using our runbooks'.
        r"answer\w* (?:\w+ ){0,2}questions? (?:about|from|over|on|using|based on|against|regarding|with|in) "
        r"(?:[\w~-]+ ){0,4}(?:docs|documents|documentation|pdfs|runbooks|playbooks|filings|manuals|policies|"
        r"wikis?|handbooks?|knowledge|reports|papers|sops|records|guides)\b",
    ),
    (
        "code_completion",
        r"auto[- ]?complet\w*|code[- ]complet\w*|tab[- ]complet\w*|inline (?:code )?(?:suggestions|"
        r"completions)|copilot|fill[- ]in[- ]the[- ]middle|\bfim\b|complet\w* in (?:the|our|their) "
        r"(?:ide|editor)|(?:ide|editor) (?:plugin|extension|integration)|as (?:they|you|devs|"
        r"developers|people|engineers) type|next[- ]line suggestions|in (?:our|the) (?:ide|editor)",
    ),
    (
        "code_generation",
        # Porting code between languages ('convert legacy COBOL to Java'), not translating text.
        r"(?:convert|port|migrat|translat|rewrit)\w* (?:[\w-]+ ){0,4}?(?:to|into) (?:modern )?(?:cobol|fortran|"
        r"java|python|javascript|typescript|c#|c\+\+|rust|golang|scala|php|kotlin|swift)\b|"
        r"code[- ]?gen\w*|generat\w* (?:\w+ )?code|writ\w* (?:\w+ )?code|coding (?:assistant|agent|"
        r"help|bot|tool)|code[- ](?:reviews?|reviewer|refactor\w*|assistant|writing)|review\w* (?:prs|"
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
        r"summar\w*|tl;?dr(?!\s*:)|\bdigests?\b|condens\w*|\brecaps?\b|meeting notes|key points|action items|"
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
        r"information) from|data extraction|sentiment analysis|categori[sz]\w*|"
        # 'extract names, dates and amounts from invoices'.
        r"extract\w* [^.;!?]{0,50}? from (?:\w+ ){0,3}(?:invoices|documents|emails|contracts|forms|receipts|"
        r"pdfs|records|reports|filings|claims|resumes|cvs)\b",
    ),
    # 'multilingual' qualifies another task ('a multilingual customer support chatbot'): translation only
    # when nothing else is named.
    ("translation", r"multilingual"),
)


# Work that is a batch job by nature, or a batch job named as such.
_BATCH_WORK = (
    r"classif\w*|\btag(?:s|ging)?\b|\blabel(?:l)?ing\b|extract\w*|\betl\b|sentiment|scor(?:e|es|ing)\b|"
    r"categori[sz]\w*|moderat\w*|dedup\w*|\bocr\b|structured (?:json|data)|pull\w* (?:\w+ ){0,3}out of|"
    r"batch (?:job|processing|pipeline|inference|run|workload)s?|bulk (?:job|processing|inference)|"
    r"offline (?:job|processing|pipeline|inference|batch)|\bin batch\b"
)


# The verbs that name the work of a batch run (the nouns 'batch summarization' leave it open).
_BATCH_VERB_TASKS: tuple[tuple[str, str], ...] = (
    ("summarization", r"summari[sz]e|summari[sz]ing|generate summaries|writ\w* summaries"),
    ("translation", r"translate|translating"),
    (
        "content_generation",
        r"generate (?:\w+ )?(?:descriptions|articles|copy|content|posts|emails)|writ\w* (?:\w+ )?"
        r"(?:descriptions|articles|copy|posts)",
    ),
)
_BATCH_VERB = re.compile(r"\b(?:" + "|".join(r for _, r in _BATCH_VERB_TASKS) + r")\b")


def _task(t: str, b: Builder) -> str | None:
    for task, rx in _TASK_RULES:
        m = fast_search(rx, t)
        if not m:
            continue
        if task == "batch_processing" and rx is _BATCH_STRONG and not fast_search(_BATCH_WORK, t):
            # A nightly summary or translation run could be either task: ask. A bare 'nightly' names none.
            # A verb that names the work decides it: 'summarize 5,000 papers once a week'.
            verb = fast_search(_BATCH_VERB, t)
            if verb:
                task = next(k for k, r in _BATCH_VERB_TASKS if re.fullmatch(r, verb.group(0)))
                b.set("task_type", task, verb.group(0))
                return task
            other = next(
                (k for k, r in _TASK_RULES[1:] if k != "batch_processing" and fast_search(r, t)), None
            )
            if other is not None:
                b.ambiguous["task_type"] = (other, "batch_processing")
            return None
        b.set("task_type", task, m.group(0))
        return task
    return None


def _subject(t: str, b: Builder) -> bool:
    """The content domain (``app.intent.domains``); returns whether the cue was strong (the domain named)."""
    hit = find_domain(t)
    if hit is None:
        return False
    b.set("subject_matter", hit.name, hit.source)
    return hit.strong


# --- entry point -------------------------------------------------------------------------------------


def extract(text: str, vocabulary: Vocabulary | None = None) -> Extraction:
    """Read a person's message into a :class:`DeploymentIntent` without any model.

    Never raises for odd input: empty, huge, emoji or adversarial text gives a valid (possibly empty)
    intent; values outside the schema's bounds are dropped and reported in ``warnings``.
    """
    vocab = vocabulary or default_vocabulary()
    b = Builder()
    raw = text or ""
    if len(raw) > MAX_TEXT_CHARS:
        b.warnings.append(f"message truncated to its first {MAX_TEXT_CHARS:,} characters")
        raw = raw[:MAX_TEXT_CHARS]
    description = re.sub(r"\s+", " ", raw).strip()
    if not description:
        return Extraction(intent=DeploymentIntent(), warnings=b.warnings)
    t, mentions = normalize_text(raw, vocab, b.warnings)
    numbers = numbers_in(t)

    b.set("use_case_description", description[:2000], "text")
    task = _task(t, b)
    subject_named = _subject(t, b)
    rest = money(t, b)
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
    rates(rest, b)
    latencies(rest, b, task)
    token_lengths(rest, b)
    _priority(t, b)
    _quality(t, b)
    reliability(rest, b)
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
        uncertain=dict(b.ambiguous),
        subject_named=subject_named,
    )


_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?|clock(\d{2})(\d{2})")


def numbers_in(text: str) -> list[float]:
    """The numbers in normalised text; a clock time ('clock0230', from '02:30') counts as hours (2.5)."""
    out: list[float] = []
    for m in _NUMBER_RE.finditer(text):
        out.append(float(m.group(0)) if m.group(1) is None else int(m.group(1)) + int(m.group(2)) / 60)
    return out


# A typed number and a field's value relate by one of these factors (s -> ms, per minute/hour/day/month ->
# per second, cents -> dollars, years -> months, per year/day -> per month, a fraction -> percent).
UNIT_FACTORS = (
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
    100.0,
)


def is_typed_as(value: float, typed: float) -> bool:
    """Whether a field's ``value`` is the number ``typed`` in the text, after one unit conversion (or tokens per
    second read as milliseconds per token). The one rule the extractor, the LLM merge and the eval share."""
    if any(math.isclose(value, typed * f, rel_tol=0.01, abs_tol=1e-9) for f in UNIT_FACTORS):
        return True
    return typed > 0 and math.isclose(value, 1000.0 / typed, rel_tol=0.01)


def unused_numbers(numbers: list[float], sources: list[str], intent: DeploymentIntent) -> list[float]:
    """The typed numbers no field took: not in the words a value came from, nor equal to a value after a
    unit conversion (a count folded into an inventory, a rate divided out)."""
    left = list(numbers)
    for source in sources:
        for value in numbers_in(source):
            if value in left:
                left.remove(value)
    values: list[float] = []
    for value in _flat_values(intent.stated()):
        values.append(value)

    def taken(n: float) -> bool:
        return any(is_typed_as(v, n) for v in values)

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
