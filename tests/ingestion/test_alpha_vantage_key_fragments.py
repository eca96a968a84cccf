"""No 4-character piece of the API key is kept from a provider text, wherever the key
sits in it: every offset of every text the parsers keep, and of the transport-level
texts around the cut (tests/ingestion/kept_texts.py lists them all).

The end-to-end check (response, logs, Job and task rows) is test_secret_safety.py.
"""

from __future__ import annotations

import logging

import pytest

from ingestion.providers.alpha_vantage_notices import raise_for_error_body
from ingestion.providers.alpha_vantage_series import parse_series
from ingestion.providers.errors import ProviderError
from tests.fakes.alphavantage import FakeAlphaVantage
from tests.ingestion.kept_texts import (
    DIGIT_KEY,
    KEY,
    NOTICES,
    SERIES,
    TRANSPORT,
    KeptText,
    leaks,
    leaves,
    with_key,
)
from tests.ingestion.provider_helpers import NOW, Build

PARSED = [*NOTICES, *SERIES]


def kept_from_answer(kept: KeptText, text: str, key: str) -> list[str]:
    """What the provider keeps of a status-200 JSON answer, read as fetch_daily does:
    the error's message and details, or the notes of the bars."""
    assert kept.payload is not None
    payload = kept.payload(text)
    try:
        raise_for_error_body(payload, "IBM", secrets=[key], clock=lambda: NOW)
        _, _, notes = parse_series(payload, "IBM", "compact", [key])
    except ProviderError as error:
        return [error.message, *leaves(error.details)]
    return notes


@pytest.mark.parametrize("key", [KEY, DIGIT_KEY])
@pytest.mark.parametrize("kept", PARSED, ids=lambda kept: kept.name)
def test_no_offset_of_the_key_in_a_parsed_text_leaves_a_piece(
    kept: KeptText, key: str
) -> None:
    assert leaks(key, [kept.text]) == [], "the text must not hold a piece already"
    shown = kept.text[: kept.cut]
    assert any(shown in text for text in kept_from_answer(kept, kept.text, key))

    found = {}
    for offset in range(len(kept.text) + 1):
        texts = kept_from_answer(kept, with_key(kept.text, key, offset), key)
        if pieces := leaks(key, texts):
            found[offset] = (pieces, texts)

    assert found == {}


def test_a_count_next_to_the_key_does_not_take_its_digits() -> None:
    (daily,) = [kept for kept in NOTICES if kept.name == "daily-limit"]
    offset = daily.text.index("25 requests") + 2

    (message, *_) = kept_from_answer(
        daily, with_key(daily.text, DIGIT_KEY, offset), DIGIT_KEY
    )

    assert "7391" not in message
    assert "the daily request quota" in message


@pytest.mark.parametrize("kept", TRANSPORT, ids=lambda kept: kept.name)
def test_no_offset_of_the_key_around_the_cut_of_an_answer_leaves_a_piece(
    kept: KeptText,
    fake_av: FakeAlphaVantage,
    build: Build,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = build(KEY, plan="free", max_retries=2)

    def kept_from(text: str) -> list[str]:
        caplog.clear()
        fake_av.script(*kept.responses(text))
        with pytest.raises(ProviderError) as info:
            provider.fetch_daily("IBM")
        error = info.value
        logged = [record.getMessage() for record in caplog.records]
        return [error.message, repr(error), *leaves(error.details), *logged]

    assert leaks(KEY, [kept.text]) == [], "the text must not hold a piece already"
    if kept.kept:
        shown = kept.text[: kept.cut]
        assert any(shown in text for text in kept_from(kept.text))
    found = {}
    for offset in kept.offsets_at_the_cut(KEY):
        texts = kept_from(with_key(kept.text, KEY, offset))
        if pieces := leaks(KEY, texts):
            found[offset] = (pieces, texts)

    assert found == {}
    assert {request["apikey"] for request in fake_av.requests} == {KEY}
