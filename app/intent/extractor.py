"""The offline extractor: rules and the quantity grammar, then the categorical fields by meaning.

:func:`extract` runs the deterministic rules (``app.intent.rules``), embeds the message once and lets the
k-NN classifier (``app.intent.classify``) decide the categorical fields where it was measured to do better
than the rules (``docs/intent-extraction.md`` has the held-out figures behind each choice):

- ``task_type``: the rules' value when they find one; otherwise the classifier's label when its margin is
  large enough. When it is not, the two candidates are reported in ``Extraction.uncertain`` and the
  clarifying question offers them first;
- ``subject_matter``: the domain vocabulary (``app.intent.domains``) proposes a domain; when only a weak cue
  suggested it ('patients', 'contracts'), the classifier removes it when its examples say, with a margin, that
  such messages state no domain; a domain the text names ('healthcare', 'law firm', *Versicherung*) stays;
- ``priority``, ``deployment_model``, ``burstiness_pattern``: the rules (they beat the classifier on the
  held-out split); the classifier's vote is still reported.

``examples`` is passed in by the caller (the service loads them from Postgres, keyed by version; the CLI
uses the bundled seed examples). Without examples, or when embeddings are unavailable, the rules' result
stands, with a warning saying so.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from app.intent.classify import NONE, ExampleIndex, Vote, classify_all
from app.intent.rules import Extraction
from app.intent.rules import extract as extract_rules
from app.intent.schema import DeploymentIntent
from app.intent.vocabulary import Vocabulary

log = logging.getLogger(__name__)

# The encoder reads at most 256 word pieces; the start of a long message says what it is about.
EMBED_CHARS = 2000
# The classifier sets a task the rules missed only for a near-paraphrase of an example (an admin teaching a
# phrasing); on the held-out split a looser fallback added more wrong tasks than right ones.
NEAR_PARAPHRASE = 0.8
# When the rules found the text open between two tasks (a nightly summarisation run), only an example that is
# almost the same message, labelled with one of the two, settles it.
SAME_MESSAGE = 0.9
# The examples must agree almost unanimously to overrule a domain word the rules found.
SUBJECT_VETO_MARGIN = 0.6


def apply_votes(result: Extraction, votes: dict[str, Vote]) -> Extraction:
    """Combine the rules' categorical fields with the classifier's votes (pure)."""
    data: dict[str, Any] = result.intent.model_dump(exclude_none=True)
    uncertain: dict[str, tuple[str, ...]] = dict(result.uncertain)
    task = votes.get("task_type")
    if task is not None and "task_type" not in data and task.label != NONE:
        open_in_rules = uncertain.get("task_type")
        near = NEAR_PARAPHRASE if open_in_rules is None else SAME_MESSAGE
        if (
            task.confident
            and task.similarity >= near
            and (open_in_rules is None or task.label in open_in_rules)
        ):
            data["task_type"] = task.label
            uncertain.pop("task_type", None)
        elif "task_type" not in uncertain:
            uncertain["task_type"] = tuple(x for x in (task.label, task.runner_up) if x and x != NONE)
    subject = votes.get("subject_matter")
    if (
        subject is not None
        and "subject_matter" in data
        and not result.subject_named
        and subject.label == NONE
        and subject.confident
        and subject.margin >= SUBJECT_VETO_MARGIN
    ):
        del data["subject_matter"]
    try:
        intent = DeploymentIntent.model_validate(data)
    except ValidationError as e:  # a label an admin added that the schema does not know
        log.warning("classifier label rejected by the schema, keeping the rules' result: %s", e)
        intent = result.intent
    return replace(result, intent=intent, votes=votes, uncertain=uncertain)


def extract(
    text: str, vocabulary: Vocabulary | None = None, *, examples: ExampleIndex | None = None
) -> Extraction:
    """Rules + grammar, then the categorical fields from ``examples`` (one embedding of the message)."""
    result = extract_rules(text, vocabulary)
    if examples is None or not (text or "").strip():
        return result
    from app.embeddings import EmbeddingError, embed

    try:
        vector = embed([text[:EMBED_CHARS]])[0]
    except (EmbeddingError, OSError, RuntimeError) as e:
        log.warning("embeddings unavailable, categorical fields from the rules only: %s", e)
        result.warnings.append("the meaning-based classifier is unavailable (no embeddings); rules only")
        return result
    return apply_votes(result, classify_all(examples, vector))
