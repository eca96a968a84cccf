"""Fixtures for the ingestion tests: an AlphaVantageProvider pointed at the fake."""

from __future__ import annotations

import pytest

from ingestion.providers.alpha_vantage import AlphaVantageProvider
from tests.fakes.alphavantage import SAMPLE_KEY, FakeAlphaVantage
from tests.ingestion.provider_helpers import NOW, Build


@pytest.fixture
def build(fake_av: FakeAlphaVantage) -> Build:
    """A provider pointed at the fake, fast to fail, with a fixed clock."""

    def make(api_key: str = SAMPLE_KEY, **overrides: object) -> AlphaVantageProvider:
        options: dict[str, object] = {
            "base_url": fake_av.base_url,
            "backoff_factor": 0,
            "connect_timeout": 1.0,
            "read_timeout": 2.0,
            "clock": lambda: NOW,
        }
        options.update(overrides)
        return AlphaVantageProvider(api_key=api_key, **options)  # type: ignore[arg-type]

    return make
