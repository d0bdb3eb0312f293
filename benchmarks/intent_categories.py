"""Rules vs the k-NN classifier vs the combination, per categorical field, on the held-out split.

Usage: python benchmarks/intent_categories.py [SET.jsonl ...]   (default: every set in tests/data)

Only the held-out part of each set is scored (the examples come from the train parts). For each field it
prints how often each method gives the labelled value ('none' when the label leaves the field out), and how
often it sets a value the label does not have (false positives). This is the measurement behind the choice of
method per field in docs/intent-extraction.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.embeddings import embed
from app.intent.classify import CATEGORICAL_FIELDS, NONE, classify_all
from app.intent.examples import bundled_index
from app.intent.extractor import EMBED_CHARS, apply_votes
from app.intent.rules import extract
from app.intent.vocabulary import canonical_subject
from seed.intent_examples import LABELLED_SETS, split_of

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def _label(field: str, value: object) -> str:
    if value is None:
        return NONE
    return canonical_subject(str(value)) if field == "subject_matter" else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path)
    args = parser.parse_args()
    paths = args.sets or [DATA / name for name in LABELLED_SETS if (DATA / name).is_file()]
    index = bundled_index()
    rows = [
        json.loads(line)
        for p in paths
        for line in p.read_text(encoding="utf-8").splitlines()
        if line.strip() and split_of(json.loads(line)["text"]) == "heldout"
    ]
    tally: dict[tuple[str, str], Counter[str]] = {}
    for row in rows:
        text = row["text"]
        if not text.strip():
            continue
        rules = extract(text)
        votes = classify_all(index, embed([text[:EMBED_CHARS]])[0])
        combined = apply_votes(rules, votes).intent
        for field in CATEGORICAL_FIELDS:
            expected = _label(field, row["expected"].get(field))
            vote = votes.get(field)
            for method, value in (
                ("rules", getattr(rules.intent, field)),
                ("k-NN", vote.label if vote is not None and vote.confident else None),
                ("combined", getattr(combined, field)),
            ):
                got = _label(field, None if value == NONE else value)
                outcome = (
                    "right" if got == expected else ("false positive" if expected == NONE else "wrong/missed")
                )
                tally.setdefault((field, method), Counter())[outcome] += 1
    print(f"held-out messages: {len(rows)} from {', '.join(p.name for p in paths)}; examples: {index.size()}")
    print(f"{'field':20s} {'method':9s} {'right':>6s} {'false pos':>10s} {'wrong/missed':>13s}")
    for (field, method), c in tally.items():
        print(f"{field:20s} {method:9s} {c['right']:6d} {c['false positive']:10d} {c['wrong/missed']:13d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
