"""The domain vocabulary, the quantity binders added for the stress set, and the hallucination guards.

Each case is a phrasing that appears in no labelled set: the mechanism, not a sentence, is under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.intent.domains import find_domain, subject_aliases
from app.intent.rules import extract
from app.intent.vocabulary import same_subject

pytestmark = pytest.mark.unit


def stated(text: str) -> dict[str, Any]:
    data = extract(text).intent.stated()
    data.pop("use_case_description", None)
    return data


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("An FAQ bot for our insurance brokers", "insurance"),
        ("Assistent für die Versicherungsbranche", "insurance"),
        ("agente per il settore sanitario, domande dei pazienti", "healthcare"),
        ("bot para el sector de telecomunicaciones", "telecom"),
        ("a planner for our supply chain team", "logistics"),
        ("summaries for the public sector", "government"),
        ("RAG over manufacturing work instructions", "manufacturing"),
        ("chat for our real-estate listings", "real estate"),
        ("tourism agency itinerary bot", "travel"),
    ],
)
def test_a_named_domain_is_found_in_any_supported_language(text: str, domain: str) -> None:
    hit = find_domain(extract(text).normalized_text)
    assert hit is not None and hit.name == domain and hit.strong


@pytest.mark.parametrize(
    "text",
    [
        "Answer like a doctor would, but for our board-game rules bot",
        "This is not for legal or healthcare use, just a general chatbot",
        "We tried an insurance-tech vendor and moved on; now a generic summarizer",
    ],
)
def test_a_domain_said_in_passing_is_not_the_subject(text: str) -> None:
    assert "subject_matter" not in stated(text)


def test_an_industry_beats_the_support_function_and_synonyms_compare_equal() -> None:
    assert stated("Kundenservice-Bot für eine Versicherung")["subject_matter"] == "insurance"
    assert same_subject("medical", "healthcare") and same_subject("news", "news and media")
    assert subject_aliases()["hospitality"] == "travel"


def test_builders_and_per_unit_counts_are_not_the_user_population() -> None:
    assert stated("We're just 4 people. The bot is for 1,200 nurses.")["total_users"] == 1200
    assert "total_users" not in stated("Our platform team of 5 maintains the summarizer.")
    assert stated("30 clinics, each with about 20 seats, 600 seats overall")["total_users"] == 600
    assert stated("a chatbot for our support team of 80 agents")["total_users"] == 80


def test_people_doing_something_at_the_same_time_are_concurrent() -> None:
    got = stated("a helpdesk bot, roughly 70 agents typing at the same time")
    assert got["concurrent_users"] == 70 and "total_users" not in got


def test_power_prices_in_usd_per_mwh_or_after_the_unit_and_other_currencies_left_unused() -> None:
    got = extract("Our power costs $80 per megawatt hour.")
    assert got.intent.datacenter_context and got.intent.datacenter_context.power_cost_per_kwh == 0.08
    got = extract("Der kWh kostet uns 0,2 Dollar.")
    assert got.intent.datacenter_context and got.intent.datacenter_context.power_cost_per_kwh == 0.2
    got = extract("Strom kostet 0,30 EUR/kWh, wir kaufen die Server.")
    assert got.intent.datacenter_context is None or got.intent.datacenter_context.power_cost_per_kwh is None
    assert 0.3 in got.unused_numbers


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("We buy the boxes and expect a 6-year service life.", 72),
        ("Purchasing servers; we depreciate them in 30 months.", 30),
        ("Nous achetons les serveurs, amortissement sur 4 ans.", 48),
    ],
)
def test_amortisation_is_the_duration_nearest_its_cue(text: str, months: int) -> None:
    dc = extract(text).intent.datacenter_context
    assert dc is not None and dc.amortization_period_months == months


def test_batch_windows_from_clock_times_and_weekly_cues() -> None:
    got = stated("Each week we tag 9,000 photos. The job kicks off at 1am and has to be done by 7am.")
    assert got["batch_window_hours"] == 6 and got["batch_runs_per_month"] == 4.3
    assert got["batch_items"] == 9000


def test_lengths_in_words_are_read_as_tokens_and_the_clause_before_names_them() -> None:
    assert stated("chat answers of roughly 60 words")["generation_length_avg"] == 80
    assert stated("questions are long, around 1,500 tokens")["prompt_length_avg"] == 1500


@pytest.mark.parametrize(
    "text",
    [
        "Die Geschwindigkeit ist am wichtigsten, Chatbot.",
        "Lo más importante es la velocidad para este chatbot.",
        "Snelheid heeft prioriteit.",
        "Speed counts the most for us.",
    ],
)
def test_priority_wording_in_several_languages(text: str) -> None:
    assert stated(text)["priority"] == "latency"


def test_distractor_numbers_stay_unused() -> None:
    got = extract(
        "Migrating from Llama 2 13B (2022) to Qwen3 8B, JIRA-1234, chatbot for 300 concurrent users."
    )
    assert got.intent.preferred_models == ["Qwen/Qwen3-8B"]
    assert got.intent.concurrent_users == 300
    assert 2022 in got.unused_numbers and 1234 in got.unused_numbers


def test_the_population_the_product_is_for_beats_headcount_and_pilots() -> None:
    assert stated("We have 50 employees and want a chatbot for our 8,000 members.")["total_users"] == 8000
    assert stated("A beta with 20 users ran in May; at launch it will be 900 users.")["total_users"] == 900
    assert "total_users" not in stated("We're a tiny insurtech (est. 2021, 7 engineers).")


def test_an_average_rate_is_the_expected_load_and_its_peak_only_the_shape() -> None:
    got = stated("3,000 requests per minute at the peak, on average 1,200 requests per minute.")
    assert got["expected_qps"] == 20 and "target_throughput_rps" not in got


def test_gpus_per_machine_multiply_and_a_question_is_not_a_purchase() -> None:
    got = stated("We own three HGX servers, 8x H200 each, and will serve from them.")
    assert got["gpu_inventory"] == [{"gpu": "H200-SXM-141GB", "count": 24}]
    assert "deployment_model" not in stated("Should we buy or keep renting A100s for the chatbot?")


def test_spot_capacity_is_a_price_class_not_a_rental_decision() -> None:
    got = stated("Preemptible spot instances are fine for this batch workload.")
    assert got["price_class"] == "marketplace" and "deployment_model" not in got


def test_a_feel_word_beside_a_latency_target_is_not_a_priority() -> None:
    assert "priority" not in stated("chat app, should feel snappy: p90 time to first token under 300 ms")
    assert stated("the chat app needs to feel instant")["priority"] == "latency"


def test_what_was_or_is_today_is_not_the_target() -> None:
    got = stated("We paid $9k/month to the old vendor; the new budget is $6k per month.")
    assert got["budget"]["max_monthly_cost_usd"] == 6000
    assert stated("p90 TTFT is currently 4 s; it must drop below 600 ms")["target_ttft_p90_ms"] == 600
    assert stated("Back in 2022 we had 15 rps; now about 60 rps on average.")["expected_qps"] == 60


def test_a_share_of_a_population_leaves_the_population_total() -> None:
    got = stated("About 30% of our 2,500 nurses will use it daily.")
    assert got["total_users"] == 2500 and "daily_users" not in got


def test_abbreviations_and_accented_words_do_not_break_a_binding() -> None:
    assert stated("Antworten ca. 120 Token, Chatbot")["generation_length_avg"] == 120
    assert stated("Chatbot, environ 250 connectés en même temps")["concurrent_users"] == 250
    dc = extract("Strom 11 ct/kWh, wir kaufen die Server").intent.datacenter_context
    assert dc is not None and dc.power_cost_per_kwh == 0.11


def test_a_gpu_talked_about_is_not_a_gpu_allowed() -> None:
    assert "available_gpus" not in stated("A100 prices went up again; we need a chatbot for 80 users.")
    assert "available_gpus" not in stated("We tested on an L4 last year. Now: a summarizer.")
    assert "available_gpus" not in stated("Which is better for us, H100 or H200? RAG for 200 staff.")
    assert stated("Only H200 in our region.")["available_gpus"] == ["H200-SXM-141GB"]


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Extract amounts and dates from 5k receipts daily.", "batch_processing"),
        ("Port our old Fortran routines to Python.", "code_generation"),
        ("Turn call transcripts into action items for the sales team.", "summarization"),
        ("Résumés de réunions pour nos équipes.", "summarization"),
    ],
)
def test_task_wording_classes(text: str, task: str) -> None:
    assert stated(text)["task_type"] == task


def test_typos_in_the_words_the_binders_need() -> None:
    got = stated("our lawers (around 60) want ask questions on contracs")
    assert got["total_users"] == 60 and got["subject_matter"] == "legal"
    got = stated("classify 8k tickets per nite, must finsh in 3 hrs")
    assert got["batch_items"] == 8000 and got["batch_window_hours"] == 3


def test_iberian_mil_is_thousands_at_the_end_of_a_phrase() -> None:
    assert stated("Orçamento mensal de US$ 12 mil.")["budget"]["max_monthly_cost_usd"] == 12000


def test_peak_then_average_in_either_order_and_each_token_in_other_languages() -> None:
    assert stated("60 requests per second at peak, average of 25")["expected_qps"] == 25
    assert stated("Etwa 8 Anfragen pro Sekunde, im Schnitt")["expected_qps"] == 8
    assert stated("Cada token en menos de 30 ms.")["target_tpot_p90_ms"] == 30


def test_servers_times_gpus_each_and_cents_per_kwh_in_romance_languages() -> None:
    got = stated("Tenemos 3 servidores con 4 L40S cada uno y los usaremos.")
    assert got["gpu_inventory"] == [{"gpu": "L40S-48GB", "count": 12}]
    dc = extract("Électricité à 9 centimes de dollar le kWh.").intent.datacenter_context
    assert dc is not None and dc.power_cost_per_kwh == 0.09


def test_twice_a_week_and_a_window_ending_before_a_clock_time() -> None:
    got = stated("Twice a week we tag 20k images; it starts at 2 am and must be complete before 8 am.")
    assert got["batch_runs_per_month"] == 8.6 and got["batch_window_hours"] == 6


def test_user_count_wordings() -> None:
    got = stated("MAU 60k, DAU 9k, about 1.2k concurrent.")
    assert (got["total_users"], got["daily_users"], got["concurrent_users"]) == (60000, 9000, 1200)
    got = stated("12,000 weekly active users on the chat app")
    assert got["total_users"] == 12000 and "batch_runs_per_month" not in got
    assert stated("Up to 90 agents will be logged in at the same moment.")["concurrent_users"] == 90


def test_a_gpu_cap_is_not_owned_hardware_and_shift_sizes_are_not_users() -> None:
    got = stated("A summarizer for our 300 analysts, on 2 L40S max.")
    assert got["max_gpus"] == 2 and "gpu_inventory" not in got and got["total_users"] == 300
    assert "total_users" not in stated("Nightly ETL over 80k rows; the ops desk works 3 shifts of 6 people.")
    assert stated("A healthtech startup wants a triage chatbot.")["subject_matter"] == "healthcare"
