"""Names people use for models and GPUs, mapped to catalog ids.

A :class:`Vocabulary` maps aliases to canonical ids (Hugging Face ids for models, catalog GPU ids for
GPUs) and finds mentions of them in free text. :func:`default_vocabulary` builds one from the seed files
(``seed/data/``) when present and otherwise from the shared catalog (``../shared/data``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.intent.domains import subject_aliases

log = logging.getLogger(__name__)

_REPO = Path(__file__).resolve().parents[2]
_SEP = r"[\s\-_.:/]*"

# Name parts that people usually leave out when they name a model.
_OPTIONAL_MODEL_TOKEN = re.compile(r"^(instruct|it|chat|hf|v\d+(\.\d+)?|\d{4}|\d+k|\d+e|a\d+b)$", re.I)

# Curated GPU aliases, keyed by the catalog ids used in the published measurements. A bare family name maps
# to the variant people most often mean when they name it (the SXM 80 GB parts for A100 and H100).
GPU_ALIASES: dict[str, list[str]] = {
    "H100-SXM-80GB": ["h100", "h100 sxm", "h100 sxm5", "h100 80gb", "h100 sxm 80gb", "hopper h100"],
    "H100-PCIe-80GB": ["h100 pcie", "h100 pcie 80gb", "h100 80gb pcie"],
    "H100-NVL-94GB": ["h100 nvl", "h100 nvl 94gb", "h100 94gb"],
    "H200-SXM-141GB": ["h200", "h200 sxm", "h200 141gb", "h200 sxm 141gb"],
    "A100-SXM-80GB": ["a100", "a100 80gb", "a100 sxm", "a100 sxm 80gb", "a100 sxm4 80gb", "a100 80"],
    "A100-SXM-40GB": ["a100 40gb", "a100 sxm 40gb", "a100 sxm4 40gb", "a100 40"],
    "L40S-48GB": ["l40s", "l40s 48gb", "l 40s"],
    "L40-48GB": ["l40", "l40 48gb"],
    "L4": ["l4", "nvidia l4"],
    "T4": ["t4", "tesla t4", "nvidia t4"],
    "A10G": ["a10g"],
    "B200-180GB": ["b200", "b200 180gb", "b200 192gb"],
    "GB200-186GB": ["gb200", "gb200 186gb", "gb200 192gb"],
    "GH200-96GB": ["gh200", "gh200 96gb", "gh200 120gb"],
    "GH200-144GB": ["gh200 144gb", "gh200 141gb"],
    "MI300X-192GB": ["mi300x", "mi300", "mi 300x", "mi300x 192gb", "amd mi300x"],
}


def _vendor_of(gpu_id: str) -> str:
    """Vendor when the catalog does not say: AMD's Instinct parts are named MI..., the rest are NVIDIA's."""
    return "AMD" if gpu_id.upper().startswith("MI") else "NVIDIA"


def normalize(name: str) -> str:
    """Canonical comparison form: lower case, no separators ('H100 SXM' -> 'h100sxm')."""
    return re.sub(r"[\s\-_.:/]+", "", name.lower())


def _alias_pattern(alias: str) -> str:
    """Regex for an alias whose parts may be joined by any separator ('a100 80gb' ~ 'A100-80 GB')."""
    parts = [p for p in re.split(r"[\s\-_/:]+", alias.lower()) if p]
    out: list[str] = []
    for part in parts:
        # Split at letter->digit boundaries so 'qwen2.5' also matches 'qwen 2.5'.
        for sub in re.findall(r"[a-z]+|\d+(?:\.\d+)?(?:x\d+)?[a-z]*", part):
            m = re.fullmatch(r"(\d+(?:\.\d+)?)(gb|g)", sub)
            if m:
                out.append(re.escape(m.group(1)) + r"\s*gb?")
            else:
                out.append(re.escape(sub))
    return _SEP.join(out)


def _tokens_pattern(tokens: list[str]) -> str:
    pieces: list[str] = []
    for t in tokens:
        p = _alias_pattern(t)
        if not p:
            continue
        if _OPTIONAL_MODEL_TOKEN.match(t):
            pieces.append(f"(?:{_SEP}{p})?")
        else:
            pieces.append((_SEP if pieces else "") + p)
    return "".join(pieces)


def _model_aliases(hf_id: str) -> list[str]:
    """Patterns for a model: its HF id, and its name with optional parts (Instruct, v0.3, ...) optional."""
    name = hf_id.split("/", 1)[-1]
    tokens = name.split("-")
    patterns = [re.escape(hf_id.lower())]
    if any(not _OPTIONAL_MODEL_TOKEN.match(t) for t in tokens):
        pat = _tokens_pattern(tokens)
        if tokens[0].lower() == "llama":
            pat = f"(?:meta{_SEP})?" + pat
        patterns.append(pat)
        if tokens[0].lower() == "deepseek" and len(tokens) > 2:
            # 'R1 distill Llama 70B' is a common short form of 'DeepSeek-R1-Distill-Llama-70B'.
            patterns.append(_tokens_pattern(tokens[1:]))
    return patterns


_SIZE_TOKEN = re.compile(r"^\d+(?:\.\d+)?b$", re.I)
_VERSION_TOKEN = re.compile(r"^v?\d+(?:\.\d+)*$", re.I)


def _nickname_tokens(hf_id: str) -> list[str] | None:
    """The name without its version ('Qwen2.5-Coder-32B-Instruct' -> qwen coder 32b), or None.

    People often drop the version when they name a model ('qwen coder 32b', 'mixtral 8x7b'); such a
    nickname is only usable when it names one catalog model, which :meth:`Vocabulary.build` checks.
    """
    tokens = hf_id.split("/", 1)[-1].split("-")
    if len(tokens) > 1 and tokens[0].lower() == "meta":
        tokens = tokens[1:]  # 'Meta-Llama-3-8B' is a Llama too, so it competes for 'llama 8b'
    out: list[str] = []
    changed = False
    for i, tok in enumerate(tokens):
        stem = re.sub(r"[\d.]+$", "", tok) if i == 0 else tok
        if i == 0 and stem != tok and len(stem) >= 3:
            out.append(stem)  # 'Qwen2.5' -> 'qwen'
            changed = True
        elif i > 0 and _VERSION_TOKEN.match(tok):
            changed = True  # 'Llama-3.1-70B': the version is its own token
        else:
            out.append(tok)
    # Only a nickname that still names a size and a family word is specific enough ('phi' alone is not).
    if not changed or not any(_SIZE_TOKEN.match(t) for t in out):
        return None
    return out


@dataclass
class Vocabulary:
    """Aliases -> canonical ids, for models (HF ids) and GPUs (catalog GPU ids)."""

    models: dict[str, str] = field(default_factory=dict)
    gpus: dict[str, str] = field(default_factory=dict)
    # GPU id -> vendor ('AMD', 'NVIDIA'), so 'no AMD' can exclude every AMD GPU of the catalog.
    gpu_vendors: dict[str, str] = field(default_factory=dict)
    _model_matcher: _Matcher | None = field(default=None, init=False, repr=False)
    _gpu_matcher: _Matcher | None = field(default=None, init=False, repr=False)

    @classmethod
    def build(
        cls,
        model_ids: Iterable[str],
        gpu_aliases: Mapping[str, Iterable[str]],
        model_aliases: Mapping[str, Iterable[str]] | None = None,
        gpu_vendors: Mapping[str, str] | None = None,
    ) -> Vocabulary:
        """Build from HF ids (aliases derived from their names) and GPU id -> aliases."""
        vocab = cls()
        vocab.gpu_vendors = dict(gpu_vendors or {g: _vendor_of(g) for g in gpu_aliases})
        model_patterns: list[tuple[str, str]] = []
        model_ids = list(model_ids)
        # Nickname key (no optional parts) -> the models it could name.
        nicknames: dict[str, list[str]] = {}
        for hf_id in model_ids:
            nick = _nickname_tokens(hf_id)
            if nick:
                key = normalize("".join(t for t in nick if not _OPTIONAL_MODEL_TOKEN.match(t)))
                nicknames.setdefault(key, []).append(hf_id)
        for ids in nicknames.values():
            if len(ids) == 1:  # a nickname shared by two models ('llama 70b') names neither
                model_patterns.append((_tokens_pattern(_nickname_tokens(ids[0]) or []), ids[0]))
        for hf_id in model_ids:
            vocab.models[normalize(hf_id)] = hf_id
            vocab.models[normalize(hf_id.split("/", 1)[-1])] = hf_id
            for pat in _model_aliases(hf_id):
                model_patterns.append((pat, hf_id))
            for alias in (model_aliases or {}).get(hf_id, []):
                vocab.models[normalize(alias)] = hf_id
                model_patterns.append((_alias_pattern(alias), hf_id))
        gpu_patterns: list[tuple[str, str]] = []
        for gpu_id, aliases in gpu_aliases.items():
            for alias in [gpu_id, *aliases]:
                vocab.gpus[normalize(alias)] = gpu_id
                gpu_patterns.append((_alias_pattern(alias), gpu_id))
        vocab._model_matcher = _compile(model_patterns)
        vocab._gpu_matcher = _compile(gpu_patterns)
        return vocab

    def model_id(self, name: str) -> str | None:
        """Canonical HF id for a model name or alias, or None."""
        key = normalize(name)
        if key in self.models:
            return self.models[key]
        found = self.find_models(name)
        return found[0][0] if len(found) == 1 else None

    def gpu_id(self, name: str) -> str | None:
        """Canonical GPU id for a GPU name or alias, or None ('H100s' -> 'H100-SXM-80GB')."""
        key = normalize(name)
        if key in self.gpus:
            return self.gpus[key]
        if key.endswith("s") and key[:-1] in self.gpus:
            return self.gpus[key[:-1]]
        found = self.find_gpus(name)
        return found[0][0] if len(found) == 1 else None

    def find_models(self, text: str) -> list[tuple[str, int, int]]:
        """(hf_id, start, end) for each model mention in ``text``."""
        return _find(self._model_matcher, text)

    def find_gpus(self, text: str) -> list[tuple[str, int, int]]:
        """(gpu_id, start, end) for each GPU mention in ``text``."""
        return _find(self._gpu_matcher, text)


_WORD_START = r"(?<![a-z0-9])"
_SUFFIX = r"(?:s|'s)?(?![a-z0-9])"


def _literal_prefixes(pattern: str) -> set[str] | None:
    """Up to 3 literal characters every match of ``pattern`` starts with (one set entry per alternative).

    Only the shapes this module builds are understood (a literal start, optionally behind one optional
    non-nested group); anything else gives None, meaning 'may start anywhere'.
    """
    m = re.match(r"\(\?:([^()]*)\)\?", pattern)
    if m:
        inner = _literal_prefixes(m.group(1))
        rest = _literal_prefixes(pattern[m.end() :])
        return None if inner is None or rest is None else inner | rest
    lit = re.match(r"[a-z0-9]+", pattern)
    if not lit:
        return None
    run = lit.group(0)
    if pattern[lit.end() : lit.end() + 1] in ("?", "*", "{"):
        run = run[:-1]  # the last literal is optional
    return {run[:3]} if run else None


@dataclass
class _Matcher:
    """Alias patterns grouped by their first literal characters.

    One alternation of hundreds of aliases is tried at every position of the text, which made a 20 KB
    message take ~100 ms. Here each word start is looked up by its first 1-3 characters and only the few
    aliases that can start there are tried; the longest-pattern-first order of the single regex is kept.
    """

    ids: list[str]
    groups: dict[str, tuple[re.Pattern[str], list[int]]]
    anywhere: tuple[re.Pattern[str], list[int]] | None
    starts: re.Pattern[str]

    def finditer(self, text: str) -> list[tuple[int, int, int]]:
        """(index into ids, start, end) of each leftmost, non-overlapping match."""
        out: list[tuple[int, int, int]] = []
        last_end = 0
        for s in self.starts.finditer(text):
            pos = s.start()
            if pos < last_end:
                continue
            best: tuple[int, int] | None = None  # (global pattern index, end)
            candidates = [self.groups.get(text[pos : pos + n]) for n in (1, 2, 3)]
            for group in [*candidates, self.anywhere]:
                if group is None:
                    continue
                regex, indices = group
                m = regex.match(text, pos)
                if m is None or m.lastindex is None:
                    continue
                idx = indices[m.lastindex - 1]
                if best is None or idx < best[0]:
                    best = (idx, m.end())
            if best is not None:
                out.append((best[0], pos, best[1]))
                last_end = best[1]
        return out


def _group_regex(patterns: list[str]) -> re.Pattern[str]:
    body = "|".join(f"({pat})" for pat in patterns)
    return re.compile(rf"{_WORD_START}(?:{body}){_SUFFIX}")


def _compile(patterns: list[tuple[str, str]]) -> _Matcher | None:
    if not patterns:
        return None
    unique: dict[str, str] = {}
    for pat, target in patterns:
        unique.setdefault(pat, target)
    # Longest pattern first, so 'a100 40gb' wins over 'a100' at the same position.
    ordered = sorted(unique.items(), key=lambda kv: -len(kv[0]))
    by_prefix: dict[str, list[int]] = {}
    anywhere: list[int] = []
    for i, (pat, _) in enumerate(ordered):
        prefixes = _literal_prefixes(pat)
        if prefixes is None:
            anywhere.append(i)
            continue
        for prefix in prefixes:
            by_prefix.setdefault(prefix, []).append(i)
    groups = {prefix: (_group_regex([ordered[i][0] for i in idx]), idx) for prefix, idx in by_prefix.items()}
    if anywhere:
        starts = re.compile(rf"{_WORD_START}[a-z0-9]")
    else:
        keys = sorted(by_prefix, key=len, reverse=True)
        starts = re.compile(rf"{_WORD_START}(?=" + "|".join(re.escape(k) for k in keys) + ")")
    return _Matcher(
        ids=[target for _, target in ordered],
        groups=groups,
        anywhere=(_group_regex([ordered[i][0] for i in anywhere]), anywhere) if anywhere else None,
        starts=starts,
    )


def _find(matcher: _Matcher | None, text: str) -> list[tuple[str, int, int]]:
    if matcher is None:
        return []
    return [(matcher.ids[i], s, e) for i, s, e in matcher.finditer(text.lower())]


# --- loading ----------------------------------------------------------------------------------------


def _rows(path: Path, key: str) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get(key) or data.get("rows") or []
    return [r for r in data if isinstance(r, dict)]


def _find_file(directory: Path, stem: str) -> Path | None:
    for name in (f"{stem}.json",):
        p = directory / name
        if p.is_file():
            return p
    return None


def load_vocabulary(seed_dir: Path | None = None, shared_dir: Path | None = None) -> Vocabulary:
    """Vocabulary from seed files when they exist, else from the shared catalog; curated GPU aliases added."""
    seed_dir = seed_dir or _REPO / "seed" / "data"
    shared_dir = shared_dir or _REPO.parent / "shared" / "data"
    model_ids: list[str] = []
    model_aliases: dict[str, list[str]] = {}
    gpu_aliases: dict[str, list[str]] = {}
    gpu_vendors: dict[str, str] = {}

    models_file = _find_file(seed_dir, "models") or _find_file(shared_dir / "catalog", "models")
    if models_file is not None:
        for row in _rows(models_file, "models"):
            hf_id = row.get("hf_id") or row.get("id")
            if isinstance(hf_id, str) and "/" in hf_id:
                model_ids.append(hf_id)
                model_aliases[hf_id] = [a for a in row.get("aliases") or [] if isinstance(a, str)]
    else:
        log.warning(
            "no model catalog found under %s or %s; model names will not be recognised", seed_dir, shared_dir
        )

    seed_gpus = _find_file(seed_dir, "gpus")
    if seed_gpus is not None:
        for row in _rows(seed_gpus, "gpus"):
            gid = row.get("id") or row.get("gpu")
            if isinstance(gid, str):
                gpu_aliases[gid] = [a for a in row.get("aliases") or [] if isinstance(a, str)]
                vendor = row.get("vendor")
                gpu_vendors[gid] = vendor if isinstance(vendor, str) else _vendor_of(gid)
        # Curated aliases join the seed id they name (by id or by one of the seed's own aliases).
        by_norm = {normalize(a): gid for gid, als in gpu_aliases.items() for a in [gid, *als]}
        for curated_id, aliases in GPU_ALIASES.items():
            target = by_norm.get(normalize(curated_id))
            if target is not None:
                gpu_aliases[target].extend(a for a in aliases if normalize(a) not in by_norm)
    else:
        gpu_aliases = {k: list(v) for k, v in GPU_ALIASES.items()}
        published = shared_dir / "published" / "serving_measurements.json"
        if published.is_file():
            # Measurement labels ('GH200-120GB', 'GB200-192GB') become aliases of the catalog ids.
            labels = {str(m.get("gpu")) for m in _rows(published, "measurements") if m.get("gpu")}
            known = {normalize(a) for als in gpu_aliases.values() for a in als} | {
                normalize(g) for g in gpu_aliases
            }
            for label in sorted(labels):
                if normalize(label) not in known:
                    log.debug("published GPU label %s has no curated alias", label)
    return Vocabulary.build(model_ids, gpu_aliases, model_aliases, gpu_vendors or None)


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    return load_vocabulary()


# Subject names that mean the same domain, as different writers put them. The extractor writes the key's
# value; comparisons (evaluation, merging) go through :func:`same_subject`.
# Every name a labeller may use for a domain maps to its canonical name (one source: app.intent.domains).
SUBJECT_ALIASES: dict[str, str] = subject_aliases()


def canonical_subject(subject: str) -> str:
    s = subject.strip().lower()
    return SUBJECT_ALIASES.get(s, s)


def same_subject(a: str, b: str) -> bool:
    return canonical_subject(a) == canonical_subject(b)
