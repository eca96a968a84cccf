"""Pytest fixtures for the fake Alpha Vantage server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.alphavantage import SAMPLE_KEY, FakeAlphaVantage


@pytest.fixture
def fake_av() -> Iterator[FakeAlphaVantage]:
    """A started fake on a free loopback port, stopped after the test."""
    with FakeAlphaVantage() as fake:
        yield fake


@pytest.fixture
def av_key() -> str:
    """The free-plan key the key-echo sample body was written with."""
    return SAMPLE_KEY
