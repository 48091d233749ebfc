"""The OpenAI clients of the server: built in one place, on the configured key and base URL."""

from __future__ import annotations

from typing import Any

from voice.engines.clients import DEFAULT_BASE_URL, key_mint_client, openai_client


async def test_the_shared_client_follows_the_settings_and_is_reused(settings: Any) -> None:
    settings.OPENAI_API_KEY = "sk-one"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    settings.OPENAI_MAX_RETRIES = 1

    first, again = openai_client(), openai_client()
    settings.OPENAI_BASE_URL = "http://127.0.0.1:10/v1"
    moved = openai_client()

    assert first is again
    assert (first.api_key, str(first.base_url), first.max_retries) == (
        "sk-one",
        "http://127.0.0.1:9/v1/",
        1,
    )
    assert moved is not first and str(moved.base_url) == "http://127.0.0.1:10/v1/"


async def test_without_a_key_the_shared_client_still_builds(settings: Any) -> None:
    settings.OPENAI_API_KEY = ""

    assert openai_client().api_key == "missing-key"


def test_the_key_mint_client_leaves_retries_to_its_caller(settings: Any) -> None:
    settings.OPENAI_API_KEY = "sk-mint"
    settings.OPENAI_BASE_URL = None

    with key_mint_client() as client:
        assert (client.api_key, client.max_retries) == ("sk-mint", 0)
        assert str(client.base_url) == f"{DEFAULT_BASE_URL}/"
