"""Labelled example sentences for the categorical intent fields (``seed/data/examples.json``).

Two sources, each row keeping its own:
- the *train* part of the labelled evaluation sets in ``tests/data`` (a message and the labels its writer
  gave; a field the label leaves out is an example of ``none``: the message does not state it);
- short phrases written for Preflight (``preflight_judgement``), one idea each, for the labels the sets
  rarely use.

The split is by a hash of the text (:func:`split_of`), so it is stable and the held-out part never feeds
the classifier. ``python -m seed.intent_examples`` rewrites the JSON and the vectors next to it
(``examples.npy``, float16, one row per distinct text in file order, all-MiniLM-L6-v2); ``--check`` fails
when they are stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Literal

from app.intent.classify import CATEGORICAL_FIELDS
from app.intent.vocabulary import canonical_subject

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = REPO / "seed" / "data"
EXAMPLES_FILE = SEED_DIR / "examples.json"
VECTORS_FILE = SEED_DIR / "examples.npy"
LABELLED_SETS = (
    "intent_labelled.jsonl",
    "intent_heldout.jsonl",
    "intent_heldout2.jsonl",
    "intent_s1.jsonl",
)
FIELDS = CATEGORICAL_FIELDS
MAX_EXAMPLE_CHARS = 600  # longer messages (logs pasted in) say nothing more about the category
PREFLIGHT = "preflight_judgement"


def split_of(text: str) -> Literal["train", "heldout"]:
    """A stable third of every set is held out (by a hash of the text)."""
    return "heldout" if hashlib.sha256(text.encode("utf-8")).digest()[0] % 3 == 0 else "train"


# One idea per phrase, written for Preflight; none is copied from an evaluation set.
PHRASES: dict[str, dict[str, list[str]]] = {
    "task_type": {
        "chatbot": [
            "a chatbot for our customers",
            "conversational assistant people talk to",
            "support bot on the website that chats with visitors",
            "virtual agent answering customers in a chat window",
            "an assistant in our app that people can message",
        ],
        "code_completion": [
            "autocomplete for code in the editor",
            "inline suggestions while developers type",
            "tab completion in the IDE",
            "fill in the middle completions for our programmers",
            "Codevervollständigung in der IDE",
        ],
        "code_generation": [
            "generate whole functions from a description",
            "write Python functions from docstrings",
            "a coding agent that writes code from tickets",
            "review pull requests and suggest fixes",
            "turn natural language into SQL queries",
            "generate unit tests for our codebase",
        ],
        "summarization": [
            "summarize long documents into a few sentences",
            "condense meeting transcripts into notes",
            "write a short abstract of each report",
            "résumer des documents",
            "TL;DR of long email threads",
        ],
        "rag_qa": [
            "answer questions over our internal documents",
            "question answering on the knowledge base",
            "search our manuals and answer with citations",
            "retrieval augmented generation over company files",
            "ask questions about our policies and get grounded answers",
        ],
        "translation": [
            "translate text between English and German",
            "machine translation of product pages",
            "localize our app strings into ten languages",
            "traducción de documentos",
        ],
        "content_generation": [
            "write marketing copy and blog posts",
            "generate product descriptions for the shop",
            "draft social media posts from press releases",
            "create newsletter articles",
            "génération de contenu marketing",
        ],
        "batch_processing": [
            "classify millions of records in a nightly batch",
            "offline job that tags documents",
            "extract fields from invoices in bulk",
            "sentiment analysis over all reviews once a week",
            "ETL job turning PDFs into structured JSON",
        ],
        "none": [
            "we have 8 GPUs",
            "budget is 5000 dollars a month",
            "must run in eu-west-1",
            "99.9% uptime please",
            "what does this cost?",
        ],
    },
    "priority": {
        "latency": [
            "latency is the top priority",
            "it has to be as fast as possible",
            "responses must feel instant",
            "speed matters more than anything",
        ],
        "cost": [
            "as cheap as possible",
            "cost is our main concern",
            "we are on a tight budget, minimise spend",
            "la prioridad es el costo",
            "the cheapest option that works",
        ],
        "accuracy": [
            "accuracy matters more than speed",
            "quality of the answers is what counts most",
            "we cannot afford wrong answers",
            "best possible quality",
        ],
        "balanced": [
            "a good balance between cost and latency",
            "balance speed and price",
            "reasonable trade-off between quality and cost",
        ],
        "none": [
            "a chatbot for 500 users",
            "summarize documents of 2000 tokens",
            "we own 4 A100s",
            "deploy Llama 3.1 8B on AWS",
        ],
    },
    "subject_matter": {
        "customer support": [
            "customer support for our online shop",
            "answering customer service tickets",
            "help desk for our customers",
        ],
        "legal": ["legal contracts and case law", "for our law firm's lawyers", "juridische dossiers"],
        "healthcare": ["medical notes from clinicians", "hospital patient records", "clinical triage"],
        "finance": [
            "for our bank's analysts",
            "financial reports and trading",
            "earnings reports for finance",
        ],
        "insurance": ["insurance claims and policies", "for our claims adjusters", "underwriting documents"],
        "human resources": [
            "HR policies for employees",
            "human resources questions",
            "recruiting and payroll",
        ],
        "education": ["students and teachers at our university", "tutoring for school pupils"],
        "e-commerce": ["our online store's product catalog", "e-commerce shoppers"],
        "marketing": ["marketing campaigns and ad copy", "for our marketing department"],
        "software engineering": ["our codebase and pull requests", "software development team"],
        "internal documentation": ["our internal wiki and Confluence pages", "company documentation"],
        "gaming": ["NPC dialogue in our video game", "for the players of our game"],
        "none": [
            "a chatbot for 1000 users",
            "summarize documents, 4 requests per second",
            "translation API under $1 per hour",
            "we own 8 H100s",
            "latency under 200 ms",
        ],
    },
    "deployment_model": {
        "owned_hardware": [
            "run it on our own servers on-prem",
            "use the GPUs in our datacenter",
            "deploy on the hardware we already own",
        ],
        "cloud_rental": [
            "rent GPUs in the cloud",
            "on-demand cloud instances",
            "we rent GPUs from a provider",
        ],
        "purchase": ["we plan to buy GPUs", "purchase new servers for this", "acquire hardware up front"],
        "none": ["a chatbot for 500 users", "latency under a second", "should we buy or keep renting?"],
    },
    "burstiness_pattern": {
        "steady": ["traffic is steady around the clock", "constant load all day"],
        "high": ["very bursty traffic with sudden spikes", "unpredictable surges in load"],
        "diurnal": ["busy in business hours, dead at night", "peaks during the working day"],
        "moderate": ["some occasional spikes", "moderately bursty"],
        "low": ["mostly steady with few spikes"],
        "none": ["a chatbot for 500 users", "budget 3k a month", "summarize documents"],
    },
}


def unique_texts(rows: list[dict[str, str]]) -> list[str]:
    """The example texts in file order, each once: the rows of ``examples.npy``."""
    return list(dict.fromkeys(r["text"] for r in rows))


def _normalised(field: str, label: Any) -> str:
    if label is None:
        return "none"
    if field == "subject_matter":
        return canonical_subject(str(label))
    return str(label)


def build_rows(data_dir: Path = REPO / "tests" / "data") -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(field: str, label: str, text: str, source: str) -> None:
        if (field, text) in seen:
            return
        seen.add((field, text))
        rows.append({"field": field, "label": label, "text": text, "source": source})

    for field in FIELDS:
        for label, phrases in PHRASES[field].items():
            for phrase in phrases:
                add(field, label, phrase, PREFLIGHT)
    for name in LABELLED_SETS:
        path = data_dir / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            text = item["text"]
            if split_of(text) != "train" or not text.strip() or len(text) > MAX_EXAMPLE_CHARS:
                continue
            for field in FIELDS:
                add(field, _normalised(field, item["expected"].get(field)), text, f"{name} (train split)")
    return rows


def document(rows: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "kind": "examples",
        "description": "Labelled example sentences for the categorical intent fields (k-NN). Label 'none': "
        "the sentence does not state the field. Built by `python -m seed.intent_examples`.",
        "collected": "2026-12",
        "rows": rows,
    }


def render(rows: list[dict[str, str]]) -> str:
    doc = document(rows)
    head = {k: v for k, v in doc.items() if k != "rows"}
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows]
    body = json.dumps(head, ensure_ascii=False, indent=2)[:-2]
    return body + ',\n  "rows": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m seed.intent_examples", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="fail if the files are out of date")
    args = parser.parse_args(argv)
    rows = build_rows()
    text = render(rows)
    if args.check:
        stale = not EXAMPLES_FILE.is_file() or EXAMPLES_FILE.read_text(encoding="utf-8") != text
        if stale:
            sys.stderr.write(f"{EXAMPLES_FILE} is out of date: run python -m seed.intent_examples\n")
            return 1
        return 0
    import numpy as np

    from app.embeddings import embed

    old: dict[str, np.ndarray] = {}
    if EXAMPLES_FILE.is_file() and VECTORS_FILE.is_file():
        old_rows = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))["rows"]
        old_texts = unique_texts(old_rows)
        old_vecs = np.load(VECTORS_FILE)
        if len(old_texts) == len(old_vecs):
            old = dict(zip(old_texts, old_vecs, strict=True))
    # One text at a time: the numpy encoder pads a batch to its longest member.
    vectors = [old[t] if t in old else embed([t])[0] for t in unique_texts(rows)]
    EXAMPLES_FILE.write_text(text, encoding="utf-8")
    np.save(VECTORS_FILE, np.asarray(vectors, dtype=np.float16))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["field"]] = counts.get(r["field"], 0) + 1
    sys.stdout.write(f"wrote {len(rows)} examples {counts} to {EXAMPLES_FILE.relative_to(REPO)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
