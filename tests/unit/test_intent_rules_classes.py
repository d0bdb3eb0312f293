"""Classes of requests the offline extractor once misread: non-English numbers, bare output lengths, task
synonyms, user counts, compact latencies, priorities, ownership, money words, providers and regions, and
values it must never invent. Each case is a class, not a sentence: several phrasings per class."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.intent import fastsearch
from app.intent.domains import DOMAINS
from app.intent.multilingual import to_english
from app.intent.rules import _PRIORITY_CUES, _TASK_RULES, extract

pytestmark = pytest.mark.unit


def stated(text: str) -> dict[str, Any]:
    data = extract(text).intent.stated()
    data.pop("use_case_description", None)
    return data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chatbot für zwei tausend Nutzer", {"total_users": 2000}),
        ("zweitausend Benutzer", {"total_users": 2000}),
        ("zweihundertfünfzig Mitarbeiter", {"total_users": 250}),
        ("deux mille utilisateurs", {"total_users": 2000}),
        ("vingt et un utilisateurs", {"total_users": 21}),
        ("cinco mil usuarios", {"total_users": 5000}),
        ("dos mil usuarios", {"total_users": 2000}),
        ("10 mil usuarios", {"total_users": 10_000}),
        ("resumir 10 mil documentos al día", {"expected_qps": pytest.approx(10_000 / 86400, rel=1e-3)}),
        ("zehntausend Anfragen pro Stunde", {"expected_qps": pytest.approx(10_000 / 3600, rel=1e-3)}),
        ("cinq cents requêtes par seconde", {"expected_qps": 500.0}),
        ("treinta peticiones por minuto", {"expected_qps": 0.5}),
        ("Antwortzeit unter 2 Sekunden", {"target_e2e_latency_p95_ms": 2000.0}),
        ("temps de réponse en moins de 3 secondes", {"target_e2e_latency_p95_ms": 3000.0}),
    ],
)
def test_non_english_numbers_units_and_nouns(text: str, expected: dict[str, Any]) -> None:
    got = stated(text)
    for key, value in expected.items():
        assert got.get(key) == value, got


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Übersetzung Deutsch-Englisch", "translation"),
        ("traduction de documents", "translation"),
        ("Zusammenfassung von Berichten", "summarization"),
    ],
)
def test_non_english_task_words(text: str, task: str) -> None:
    assert stated(text).get("task_type") == task


@pytest.mark.parametrize(
    "text",
    [
        "once a day we retrain, 11 cents per kWh",
        "an elf NPC in our game, dos and don'ts",
        "5 mil users",
        "six million users",
        "2 cents per token",
    ],
)
def test_english_words_that_look_foreign_are_left_alone(text: str) -> None:
    lowered = text.lower()
    assert to_english(lowered) == lowered


def test_subject_from_non_english_support_words() -> None:
    assert stated("Chatbot im Kundenservice")["subject_matter"] == "customer support"
    assert stated("un chatbot de support client")["subject_matter"] == "customer support"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("prompts around 8k tokens, answers ~500", 500),
        ("Context ~6,000 tokens, answers ~250.", 250),
        ("Prompts are around 2k tokens and responses around 300 tokens.", 300),
        ("inputs of 1k tokens, outputs about 120", 120),
    ],
)
def test_bare_output_length_next_to_token_counts(text: str, tokens: int) -> None:
    assert stated(text)["generation_length_avg"] == tokens


def test_bare_number_after_answers_is_not_tokens_without_a_token_context() -> None:
    assert "generation_length_avg" not in stated("answers ~500 questions a day")
    assert "generation_length_avg" not in stated("we get 300 answers, responses around 2 seconds")


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("document QA for lawyers", "rag_qa"),
        ("an assistant for questions about policy documents", "rag_qa"),
        ("an assistant that looks things up in our document store", "rag_qa"),
        ("PDF search assistant for the sales team", "rag_qa"),
        ("quesiton answering over our confluance", "rag_qa"),
        ("Marketing wants an ad-copy generator", "content_generation"),
        ("a blog post generator", "content_generation"),
        ("copywriting helper", "content_generation"),
    ],
)
def test_task_synonyms_and_misspellings(text: str, task: str) -> None:
    assert stated(text)["task_type"] == task


@pytest.mark.parametrize(
    ("text", "users"),
    [
        ("an assistant for our claims adjusters. There are about 1,200 of them.", 1200),
        ("for our nurses, roughly 300 of them", 300),
        ("SQL for our analysts (about 150), TTFT under 1s", 150),
        ("our engineers (~40)", 40),
        ("chatbot w/ 1.2M monthly active users", 1_200_000),
    ],
)
def test_user_counts_in_other_shapes(text: str, users: int) -> None:
    assert stated(text)["total_users"] == users


def test_of_them_needs_people_before_it() -> None:
    assert "total_users" not in stated("We process invoices. About 1,200 of them a week.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "ttft<150ms tpot<20ms e2e<4s",
            {"target_ttft_p90_ms": 150.0, "target_tpot_p90_ms": 20.0, "target_e2e_latency_p95_ms": 4000.0},
        ),
        ("tpot<25ms ttft<300ms", {"target_ttft_p90_ms": 300.0, "target_tpot_p90_ms": 25.0}),
        ("TTFT: 200ms, TPOT: 40ms", {"target_ttft_p90_ms": 200.0, "target_tpot_p90_ms": 40.0}),
        ("150ms per suggestion end-to-end", {"target_e2e_latency_p95_ms": 150.0}),
        ("autocomplete, 80 ms per suggestion", {"target_e2e_latency_p95_ms": 80.0}),
    ],
)
def test_each_latency_keyword_binds_to_its_own_number(text: str, expected: dict[str, float]) -> None:
    got = stated(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("Quality is what matters, not speed.", "accuracy"),
        ("accuracy over everything", "accuracy"),
        ("cost is all that matters", "cost"),
        ("only latency matters", "latency"),
        ("speed above all else", "latency"),
    ],
)
def test_priority_phrasings(text: str, priority: str) -> None:
    assert stated(text)["priority"] == priority


@pytest.mark.parametrize(
    ("text", "gpu", "count"),
    [
        ("Our B200 cluster (64 GPUs) is owned", "B200-180GB", 64),
        ("we own an H100 cluster of 32 GPUs", "H100-SXM-80GB", 32),
    ],
)
def test_owned_cluster_with_count_after_the_name(text: str, gpu: str, count: int) -> None:
    got = stated(text)
    assert got["gpu_inventory"] == [{"gpu": gpu, "count": count}]
    assert "available_gpus" not in got
    # Owning GPUs is not yet deciding to run on them; saying so is.
    assert "deployment_model" not in got
    assert stated(text + "; run Llama 3.1 8B on it")["deployment_model"] == "owned_hardware"


@pytest.mark.parametrize(
    ("text", "monthly"),
    [("don't exceed 10 grand a month", 10_000.0), ("a grand a month at most", 1000.0)],
)
def test_money_in_grand(text: str, monthly: float) -> None:
    assert stated(text)["budget"] == {"max_monthly_cost_usd": monthly}


def test_budget_without_a_period_is_monthly_with_a_warning() -> None:
    result = extract("budget: 3k USD")
    assert result.intent.budget is not None
    assert result.intent.budget.max_monthly_cost_usd == 3000
    assert any("no period" in w for w in result.warnings)
    assert not any("no period" in w for w in extract("$5,000 a month").warnings)


@pytest.mark.parametrize(
    ("text", "months"),
    [("write them off over 4 years", 48), ("writing the servers off over 36 months", 36)],
)
def test_amortization_phrasings(text: str, months: int) -> None:
    assert stated(text)["datacenter_context"] == {"amortization_period_months": months}


@pytest.mark.parametrize(
    ("text", "provider"),
    [
        ("We're on Lambda and want to rent H100s", "Lambda"),
        ("running on CoreWeave", "CoreWeave"),
        ("renting from RunPod", "RunPod"),
        ("we use Together AI today", "Together AI"),
        ("Nebius in Finland", "Nebius"),
    ],
)
def test_gpu_cloud_providers(text: str, provider: str) -> None:
    assert stated(text)["cloud_provider"] == provider


def test_aws_lambda_functions_are_not_the_lambda_cloud() -> None:
    assert stated("we call it from an AWS Lambda function").get("cloud_provider") == "AWS"
    assert "cloud_provider" not in stated("a lambda in our Python code")


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("Azure, East US region if possible", "East US"),
        ("the West Europe region", "West Europe"),
        ("region: North Central US", "North Central US"),
    ],
)
def test_region_display_names(text: str, region: str) -> None:
    assert stated(text)["region"] == region


@pytest.mark.parametrize(
    "text",
    [
        "-200 users, 0 ms latency, budget -$5",
        "budget -$5 a month",
        "-3 requests per second",
        "PUE is 7 and power is free",
        "7 and 8 and 9",
    ],
)
def test_nothing_is_invented(text: str) -> None:
    assert stated(text) == {}


def test_negative_numbers_are_reported() -> None:
    result = extract("-200 users, budget -$5")
    assert sum("negative" in w for w in result.warnings) == 2


def test_ranges_and_bullets_are_not_negative() -> None:
    assert stated("- 200 users")["total_users"] == 200
    assert stated("AWS us-east-1, 1-2 seconds end to end")["region"] == "us-east-1"


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("translation api, strictly under $1/hr", "subject_matter"),
        ("budget 3 dollars per hr", "subject_matter"),
        ("summarizing news articles, 4 rps", "subject_matter"),
        ("extract fields from 2 million invoices", "subject_matter"),
        ("an FAQ assistant over our knowledge base", "subject_matter"),
    ],
)
def test_subjects_need_a_domain_not_a_content_type(text: str, absent: str) -> None:
    assert absent not in stated(text)


def test_subjects_still_found_from_domain_words() -> None:
    assert stated("HR policy assistant")["subject_matter"] == "human resources"
    assert stated("a newsroom summarizer")["subject_matter"] == "news and media"
    assert stated("mid-size insurance company")["subject_matter"] == "insurance"


def test_long_messages_are_understood() -> None:
    # How fast: benchmarks/text_speed.py (no wall-clock assertions in tests).
    filler = "lorem ipsum dolor sit amet " * 700  # about 19 KB with nothing to extract
    repeated = ("We need a chatbot for 1000 users with low latency on H100s. " * 400)[:20_000]
    for text, task in ((filler + "Chatbot for 700 users.", "chatbot"), (repeated, "chatbot")):
        assert extract(text).intent.task_type == task


def _cue_patterns() -> list[str]:
    domains = [rx for d in DOMAINS for rx in (d.strong, d.weak) if rx]
    return [rx for _, rx in _TASK_RULES] + domains + list(_PRIORITY_CUES.values())


@pytest.mark.parametrize(
    "text",
    [
        "a chatbot for customer support",
        "question answering over our wiki, latency is critical",
        "x " * 300 + "nightly batch summarization of legal contracts, the cheapest option",
        "lorem ipsum " * 100 + "auto-complete in the IDE",
        "lorem ipsum " * 100,
    ],
)
def test_fast_search_finds_exactly_what_re_search_finds(text: str) -> None:
    for pattern in _cue_patterns():
        expected = re.search(pattern, text)
        got = fastsearch.search(pattern, text)
        assert (got and got.span()) == (expected and expected.span()), pattern


def test_anchors_are_literal_starts_of_every_alternative() -> None:
    assert fastsearch.anchors(r"summar\w*|tl;?dr|\bdigests?\b") == ("digest", "summar", "tl")
    assert fastsearch.anchors(r"(?:not|no)\s+x|\bnever") == ("never", "no", "not")
    assert fastsearch.anchors(r"[ab]c|foo") is None  # a class start: searched as usual
    assert fastsearch.anchors(r"(?:x)?foo") is None


# --- Dutch, Italian and Portuguese ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chatbot voor tweeduizend gebruikers", {"total_users": 2000}),
        ("ongeveer vijfhonderd gebruikers", {"total_users": 500}),
        ("drieduizend medewerkers", {"total_users": 3000}),
        ("budget is 5000 dollar per maand", {"budget": {"max_monthly_cost_usd": 5000.0}}),
        ("duemila utenti", {"total_users": 2000}),
        ("cinquecento dipendenti", {"total_users": 500}),
        ("8mila utenti", {"total_users": 8000}),
        ("dois mil usuários", {"total_users": 2000}),
        ("cerca de dez mil usuários", {"total_users": 10_000}),
        ("orçamento de 8 mil dólares por mês", {"budget": {"max_monthly_cost_usd": 8000.0}}),
        ("duemila richieste al giorno", {"expected_qps": pytest.approx(2000 / 86400, rel=1e-3)}),
    ],
)
def test_dutch_italian_portuguese_numbers_and_money(text: str, expected: dict[str, Any]) -> None:
    got = stated(text)
    for key, value in expected.items():
        assert got.get(key) == value, got


@pytest.mark.parametrize(
    "text",
    [
        "chatbot, la bassa latenza è fondamentale",
        "chatbot, latenza bassa",
        "chatbot, latência baixa é essencial",
        "chatbot, baixa latência",
        "chatbot, lage latentie is cruciaal",
    ],
)
def test_non_english_low_latency_priority(text: str) -> None:
    assert stated(text).get("priority") == "latency"


@pytest.mark.parametrize(
    "text",
    [
        "Otto Group wants a chatbot",
        "Mila from our team wants a chatbot",
        "cost per tag is 3 cents",
        "it is due next week",
    ],
)
def test_names_and_english_words_are_not_foreign_numbers(text: str) -> None:
    got = stated(text)
    assert "total_users" not in got and "expected_qps" not in got and "budget" not in got


# --- task types described without their keyword --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("answering questions over ~40k internal PDFs for 300 analysts", "rag_qa"),
        ("answers employee IT questions using our runbooks", "rag_qa"),
        ("answering analyst questions over 10-K filings we index", "rag_qa"),
        ("Turn Jira tickets into draft pull-request code", "code_generation"),
        ("convert design specs to Python code", "code_generation"),
        ("a thing that spits out social posts from our press releases", "content_generation"),
        ("social media posts for our brand", "content_generation"),
        ("Mixtral for a multilingual customer support chatbot", "chatbot"),
        ("multilingual support for 12 languages", "translation"),
    ],
)
def test_tasks_described_without_the_keyword(text: str, task: str) -> None:
    assert stated(text).get("task_type") == task


def test_wanting_to_code_less_is_not_code_generation() -> None:
    assert stated("we want to code less and chat more with our chatbot")["task_type"] == "chatbot"


# --- implied priorities --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("the CFO is watching costs like a hawk", "cost"),
        ("finance is worried about the cloud bill", "cost"),
        ("users bounce if it feels sluggish", "latency"),
        ("people leave when it is slow", "latency"),
        ("latency > cost > everything else", "latency"),
        ("quality > speed", "accuracy"),
        ("budget is tight, chatbot", "cost"),
        ("budget is tight: $2k a month, accuracy matters most", "accuracy"),
    ],
)
def test_implied_and_ranked_priorities(text: str, priority: str) -> None:
    assert stated(text).get("priority") == priority


def test_a_tight_budget_with_an_amount_is_a_budget_not_a_priority() -> None:
    got = stated("Ok so budget is tight: 1,500/month max. It's a simple chatbot.")
    assert got["budget"] == {"max_monthly_cost_usd": 1500.0}
    assert "priority" not in got


# --- GPU phrasing --------------------------------------------------------------------------------------


def test_no_quota_for_a_gpu_excludes_it() -> None:
    got = stated("Can't get quota for H100 SXM, and avoid T4s.")
    assert got["excluded_gpus"] == ["H100-SXM-80GB", "T4"]
    assert "available_gpus" not in got


def test_a_vendor_ruled_out_excludes_its_gpus_only_when_negated() -> None:
    assert stated("We'd rather not use AMD. Summaries.")["excluded_gpus"] == ["MI300X-192GB"]
    got = stated("MI300X only (we have a deal w/ AMD)")
    assert got["available_gpus"] == ["MI300X-192GB"] and "excluded_gpus" not in got
    excluded = stated("no NVIDIA please")["excluded_gpus"]
    assert "H100-SXM-80GB" in excluded and "MI300X-192GB" not in excluded


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("a small chatbot on our website, it has to run on one T4.", 1),
        ("it must fit on 2 L4s", 2),
        ("should run on a single A10G", 1),
    ],
)
def test_has_to_run_on_is_a_constraint_not_owned_hardware(text: str, count: int) -> None:
    got = stated(text)
    assert got["max_gpus"] == count
    assert len(got["available_gpus"]) == 1
    assert "gpu_inventory" not in got and "deployment_model" not in got


def test_nodes_of_gpus_count_the_total() -> None:
    got = stated("we have 4 nodes of 8xA100 80GB (32 GPUs) sitting idle in our DC")
    assert got["gpu_inventory"] == [{"gpu": "A100-SXM-80GB", "count": 32}]
    got = stated("we own 2 nodes of 8x H100 in our colo")
    assert got["gpu_inventory"] == [{"gpu": "H100-SXM-80GB", "count": 16}]
    assert stated("we run on our 8 H100s in the basement")["gpu_inventory"][0]["count"] == 8


def test_at_most_n_of_them_caps_the_gpus() -> None:
    assert stated("H100s only, at most 2 of them.")["max_gpus"] == 2


# --- rates, latency percentiles, token lengths ---------------------------------------------------------


def test_peak_and_average_rates() -> None:
    got = stated("maybe 200 qps at peak, 50 avg")
    assert got["expected_qps"] == 50.0 and "target_throughput_rps" not in got
    assert stated("20 requests per second at peak")["target_throughput_rps"] == 20.0


@pytest.mark.parametrize(
    ("text", "qps"),
    [
        ("rewrite ~500 product listings per hour", pytest.approx(500 / 3600, rel=1e-3)),
        ("llama on l4 gpus, 30 rqs", 30.0),
        ("2,000 invoices per hour", pytest.approx(2000 / 3600, rel=1e-3)),
    ],
)
def test_more_rate_nouns_and_typos(text: str, qps: Any) -> None:
    assert stated(text)["expected_qps"] == qps


def test_a_monthly_amount_with_no_noun_is_not_traffic() -> None:
    got = stated("We've got 20k/mo for this. Customer-facing chat widget, llama 70b probably.")
    assert got["budget"] == {"max_monthly_cost_usd": 20000.0}
    assert "expected_qps" not in got and "preferred_models" not in got


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a p90 time-to-first-token of 200ms", {"target_ttft_p90_ms": 200.0}),
        ("p90 inter-token latency of 25ms", {"target_tpot_p90_ms": 25.0}),
        ("end-to-end latency of 2 s", {"target_e2e_latency_p95_ms": 2000.0}),
    ],
)
def test_latency_of_a_value(text: str, expected: dict[str, float]) -> None:
    got = stated(text)
    for key, value in expected.items():
        assert got.get(key) == value, got


@pytest.mark.parametrize(
    "text",
    ["p99 latency under a second for the chat feature", "p50 TTFT under 100ms"],
)
def test_other_percentiles_are_not_the_fields_targets(text: str) -> None:
    got = stated(text)
    assert not any(k.startswith("target_") for k in got), got


def test_a_stricter_ttft_percentile_fills_the_one_ttft_target() -> None:
    # p90 <= p99, so a p99 bound is also a p90 bound (the schema has one TTFT slot).
    assert stated("TTFT under 300 ms at p99")["target_ttft_p90_ms"] == 300
    assert stated("p99 first token under 300 ms")["target_ttft_p90_ms"] == 300


def test_token_kind_between_number_and_tokens() -> None:
    got = stated("8k prompt tokens, 512 output tokens, 5 QPS")
    assert got["prompt_length_avg"] == 8000 and got["generation_length_avg"] == 512
    assert "prompt_length_avg" not in stated("supports 128k context tokens, chat for 100 users")


# --- models, users, regions, amortization, subjects ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("qwen coder 32b if it fits", "Qwen/Qwen2.5-Coder-32B-Instruct"),
        ("qwen 72b for chat", "Qwen/Qwen2.5-72B-Instruct"),
        ("llama 405b", "meta-llama/Llama-3.1-405B-Instruct"),
    ],
)
def test_model_nicknames_without_version(text: str, model: str) -> None:
    assert stated(text)["preferred_models"] == [model]


@pytest.mark.parametrize("text", ["llama 70b probably", "gemma 27b chatbot", "qwen 14b please"])
def test_nicknames_shared_by_two_models_name_neither(text: str) -> None:
    assert "preferred_models" not in stated(text)


def test_more_people_nouns() -> None:
    assert stated("chat for 25,000 gamers")["total_users"] == 25_000
    assert stated("a companion for 3k viewers")["total_users"] == 3000


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("Frankfurt data residency required (GDPR)", "Frankfurt"),
        ("host it in Tokyo please", "Tokyo"),
        ("region: Sao Paulo", "Sao Paulo"),
    ],
)
def test_cloud_region_cities(text: str, region: str) -> None:
    assert stated(text)["region"] == region


def test_a_city_without_a_hosting_cue_is_not_a_region() -> None:
    assert "region" not in stated("Our Paris office wants a chatbot")


@pytest.mark.parametrize(
    ("text", "months"),
    [("5-year depreciation", 60), ("3 year amortization", 36), ("a 36-month payback", 36)],
)
def test_amortization_before_the_word(text: str, months: int) -> None:
    assert stated("buy our own GPUs, " + text)["datacenter_context"]["amortization_period_months"] == months


@pytest.mark.parametrize(
    "text",
    [
        "drafting product descriptions from spec sheets",
        "rewrite ~500 product listings per hour",
        "Everything else is fair game. Generating SQL queries.",
        "condensing research papers into abstracts",
        "ad copy variations for campaigns",
    ],
)
def test_weak_cues_are_not_subjects(text: str) -> None:
    assert "subject_matter" not in stated(text)
