"""The k-NN classifier over labelled example vectors: votes, margins, 'none', and what it cannot decide."""

from __future__ import annotations

import numpy as np
import pytest

from app.intent.classify import NONE, ExampleIndex, LabelledExample, classify, classify_all
from app.intent.extractor import apply_votes
from app.intent.rules import extract


def _unit(*xs: float) -> list[float]:
    v = np.asarray(xs, dtype=float)
    return list(v / np.linalg.norm(v))


def _index() -> ExampleIndex:
    rows = [
        (LabelledExample("task_type", "chatbot", "a chatbot"), _unit(1, 0, 0)),
        (LabelledExample("task_type", "chatbot", "talk to customers"), _unit(0.95, 0.05, 0)),
        (LabelledExample("task_type", "translation", "translate text"), _unit(0, 1, 0)),
        (LabelledExample("task_type", "translation", "localise pages"), _unit(0.05, 0.95, 0)),
        (LabelledExample("task_type", NONE, "we own 8 GPUs"), _unit(0, 0, 1)),
        (LabelledExample("subject_matter", "legal", "contracts for lawyers"), _unit(1, 0, 0)),
    ]
    return ExampleIndex.build([e for e, _ in rows], [v for _, v in rows], version="test")


def test_nearest_examples_decide_with_a_wide_margin() -> None:
    vote = classify(_index(), _unit(1, 0.02, 0), "task_type")
    assert vote is not None and vote.label == "chatbot" and vote.confident
    assert vote.margin > 0.9 and vote.nearest == "a chatbot"


def test_a_message_between_two_labels_is_not_decided() -> None:
    vote = classify(_index(), _unit(1, 1, 0), "task_type")
    assert vote is not None and not vote.confident
    assert {vote.label, vote.runner_up} == {"chatbot", "translation"}


def test_none_examples_keep_a_field_unset() -> None:
    vote = classify(_index(), _unit(0, 0.01, 1), "task_type")
    assert vote is not None and vote.label == NONE and vote.confident


def test_fields_without_examples_and_zero_vectors_give_no_vote() -> None:
    assert classify(_index(), _unit(1, 0, 0), "priority") is None
    assert classify(_index(), [0.0, 0.0, 0.0], "task_type") is None
    assert set(classify_all(_index(), _unit(1, 0, 0))) == {"task_type", "subject_matter"}


def test_examples_and_vectors_must_pair_up() -> None:
    with pytest.raises(ValueError, match="2 examples but 1 vectors"):
        ExampleIndex.build(
            [LabelledExample("task_type", "chatbot", "a"), LabelledExample("task_type", "chatbot", "b")],
            [_unit(1, 0)],
            version="bad",
        )


def test_undecided_task_is_reported_with_its_candidates_not_set() -> None:
    rules = extract("we need something for our team")
    votes = classify_all(_index(), _unit(1, 1, 0))
    result = apply_votes(rules, votes)
    assert result.intent.task_type is None
    assert set(result.uncertain["task_type"]) == {"chatbot", "translation"}


def test_a_near_paraphrase_of_an_example_sets_the_task_the_rules_missed() -> None:
    rules = extract("we need something for our team")
    result = apply_votes(rules, classify_all(_index(), _unit(1, 0.01, 0)))
    assert result.intent.task_type == "chatbot" and not result.uncertain


def test_the_rules_task_stands_when_the_examples_disagree() -> None:
    rules = extract("translate our product pages")
    result = apply_votes(rules, classify_all(_index(), _unit(1, 0, 0)))
    assert result.intent.task_type == "translation"


def test_bundled_examples_match_the_train_split_and_have_a_vector_each() -> None:
    from app.intent.examples import bundled_index
    from seed.intent_examples import main as build_examples

    assert build_examples(["--check"]) == 0  # examples.json is what the labelled sets' train split gives
    index = bundled_index()
    assert index.version.startswith("bundled:") and index.size() > 1000
    assert set(index.fields) == {
        "task_type",
        "priority",
        "subject_matter",
        "deployment_model",
        "burstiness_pattern",
    }


def test_a_batch_run_named_by_its_verb_is_decided_and_by_a_noun_asked() -> None:
    decided = extract("Every night we need to summarize about 20,000 support tickets")
    assert decided.intent.task_type == "summarization"
    monthly = extract("Une fois par mois, on doit traduire 2 millions de phrases")
    assert monthly.intent.task_type == "translation"
    nightly = extract("Queremos gerar descrições de produtos para 100 mil itens toda noite")
    assert nightly.intent.task_type == "content_generation"
    result = extract("batch summarization of 200k support tickets every night")
    assert result.intent.task_type is None
    assert result.uncertain["task_type"] == ("summarization", "batch_processing")
    assert extract("nightly job classifying tickets").intent.task_type == "batch_processing"
    assert extract("Half a million documents nightly, finished in 4h.").intent.task_type is None
