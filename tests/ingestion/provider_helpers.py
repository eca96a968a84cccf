"""Shared by the AlphaVantageProvider tests: keys, the IBM sample rows, hooks."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime

from ingestion.providers.alpha_vantage import AlphaVantageProvider
from ingestion.providers.base import NoHooks
from tests.fakes.alphavantage import load_body

NOW = datetime(2024, 6, 10, 15, 30, tzinfo=UTC)
PREMIUM_KEY = "PREMIUM0123456789"
# Distinctive, so a leak cannot hide behind an accidental substring match.
SECRET_KEY = "SECRETq7Zx9Lw2Vb4Kp"
IBM_ROWS: dict[str, dict[str, str]] = json.loads(
    load_body("time_series_daily_IBM_compact.json")
)["Time Series (Daily)"]

Build = Callable[..., AlphaVantageProvider]


class RecordingHooks(NoHooks):
    def __init__(self, plan: str | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.calls = 0
        self.detected: list[str] = []

    def before_call(self) -> None:
        self.calls += 1

    def plan_detected(self, plan: str) -> None:
        super().plan_detected(plan)
        self.detected.append(plan)


def ibm_rows_with(day: str, **fields: str) -> dict[str, dict[str, str]]:
    rows = copy.deepcopy(IBM_ROWS)
    for name, value in fields.items():
        key = next(k for k in rows[day] if k.endswith(name))
        rows[day][key] = value
    return rows


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/query"
