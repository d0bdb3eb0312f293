"""Classes of request that S2 showed the extractor missed, written in phrasings S2 does not use."""

from __future__ import annotations

import pytest

from app.intent.rules import extract


@pytest.mark.parametrize(
    "text",
    [
        "Bitte keinen L4 verwenden, Chatbot für 200 Nutzer.",
        "Chatbot interne, surtout pas de H200, merci.",
        "Assistente per 300 utenti, nessuna L40S per favore.",
        "Chatbot voor klanten, we willen geen L4 gebruiken.",
        "Chatbot para clientes, sem L4.",
        "We don't want to touch the L4 at all for this chatbot.",
        "Any GPU except L4 is fine for the chatbot.",
    ],
)
def test_a_negated_gpu_is_excluded_in_every_language(text: str) -> None:
    intent = extract(text).intent
    assert intent.excluded_gpus and len(intent.excluded_gpus) == 1
    assert not intent.available_gpus


def test_a_hedge_or_a_cap_is_not_a_negation() -> None:
    intent = extract("No more than 2 L4 for the chatbot.").intent
    assert not intent.excluded_gpus


@pytest.mark.parametrize(
    ("text", "items", "window", "runs"),
    [
        ("Chaque semaine nous devons classer 80 000 courriels, en moins de 10 heures.", None, 10, 4.3),
        ("Elke nacht 120.000 supportmails classificeren, binnen 3 uur klaar.", 120000, 3, 30),
        ("Cada noche procesamos 40 mil documentos en 5 horas.", 40000, 5, 30),
        ("Una volta al mese: 900 mila pagine da classificare entro 12 ore, ogni mese.", None, 12, 1),
    ],
)
def test_batch_runs_in_other_languages(text: str, items: int | None, window: float, runs: float) -> None:
    intent = extract(text).intent
    if items is not None:
        assert intent.batch_items == items
    assert intent.batch_window_hours == window
    assert intent.batch_runs_per_month == runs


def test_servers_times_gpus_per_server_is_the_inventory() -> None:
    intent = extract("Nous avons déjà 3 serveurs avec 8 H100 chacun dans notre propre datacenter.").intent
    assert intent.gpu_inventory is not None
    assert [(g.gpu, g.count) for g in intent.gpu_inventory] == [("H100-SXM-80GB", 24)]
    assert intent.deployment_model == "owned_hardware"


def test_a_provider_list_or_example_chooses_no_provider() -> None:
    intent = extract("It must stay on a big cloud: Azure, AWS or GCP. Chatbot for 100 users.").intent
    assert intent.cloud_provider is None
    assert extract("Cheap neoclouds such as RunPod are fine.").intent.cloud_provider is None
    assert extract("We run everything on RunPod today.").intent.cloud_provider == "RunPod"


def test_a_rejected_model_is_not_preferred() -> None:
    intent = extract("We evaluated Mistral 7B last spring and it was too weak; now we want Qwen3-14B.").intent
    assert intent.preferred_models == ["Qwen/Qwen3-14B"]


def test_buying_ruled_out_is_not_a_purchase() -> None:
    intent = extract("We would rather rent GPUs in the cloud than buy servers.").intent
    assert intent.deployment_model == "cloud_rental"


def test_concurrent_users_with_a_typo_and_in_dutch() -> None:
    assert extract("around 150 users at the same tiem on the bot").intent.concurrent_users == 150
    assert extract("Chatbot voor 2.000 medewerkers, hooguit 250 tegelijk.").intent.concurrent_users == 250


def test_other_language_power_price_write_off_and_rate() -> None:
    intent = extract(
        "Precio de la electricidad 0,18 dólares al kWh, amortización en 4 años, 12 peticiones por segundo."
    ).intent
    assert intent.datacenter_context is not None
    assert intent.datacenter_context.power_cost_per_kwh == pytest.approx(0.18)
    assert intent.datacenter_context.amortization_period_months == 48
    assert intent.expected_qps == pytest.approx(12)
