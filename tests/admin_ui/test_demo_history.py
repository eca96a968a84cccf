"""`make demo`'s history: what demo_setup seeds, seeded once more without copies, and
every page a newcomer opens showing it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Model
from django.test import Client, override_settings
from django.urls import reverse
from django_q.models import Schedule
from pypdf import PdfReader

from backtesting.models import BacktestRun, Comparison, Sweep
from core.models import ApiToken, Job, Symbol
from ingestion.providers.sample import SAMPLE_NAMES
from ml.models import PredictionRun, TrainedModel
from ml.selectors import forecast_rows
from reporting.models import Report

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Seeding:
    outputs: tuple[str, str]
    # Rows per model after the first run and after the second.
    first: dict[str, int]
    second: dict[str, int]
    login: dict[str, str]
    # Where the seeding archived the report PDFs (each test has a MEDIA_ROOT of its own).
    media: Path


def _counts() -> dict[str, int]:
    return {
        "backtests": BacktestRun.objects.count(),
        "sweeps": Sweep.objects.count(),
        "comparisons": Comparison.objects.count(),
        "hindcasts": PredictionRun.objects.filter(is_hindcast=True).count(),
        "forecasts": PredictionRun.objects.filter(is_hindcast=False).count(),
        "reports": Report.objects.count(),
        "jobs": Job.objects.count(),
        "models": TrainedModel.all_objects.count(),
    }


def _rows_per_model() -> dict[type[Model], int]:
    return {model: model._base_manager.count() for model in apps.get_models()}


# What demo_setup writes, in an order that deletes a forecast before its model
# (PROTECT); a symbol takes its bars, corporate actions and runs with it.
DEMO_MODELS: tuple[type[Model], ...] = (
    Report,
    Job,
    Comparison,
    PredictionRun,
    TrainedModel,
    Sweep,
    BacktestRun,
    Symbol,
    ApiToken,
    get_user_model(),
    Schedule,
)


def _ids(model: type[Model]) -> set[int]:
    return set(model._base_manager.values_list("pk", flat=True))


def _forget_the_demo(kept: dict[type[Model], set[int]]) -> None:
    """Delete what demo_setup made, so the tests after this module start as usual."""
    for model in DEMO_MODELS:
        model._base_manager.exclude(pk__in=kept[model]).delete()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Seeding]:
    """demo_setup run twice on the test database, kept for this module's tests.

    It runs outside the tests' transactions (one seeding instead of one per test),
    so the teardown deletes what it made and checks that nothing else is left.
    """
    folder = tmp_path_factory.mktemp("demo")
    credentials = folder / "login.json"
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=folder / "media"):
        before = _rows_per_model()
        kept = {model: _ids(model) for model in DEMO_MODELS}
        outputs = []
        counts = []
        try:
            for _ in range(2):
                out = io.StringIO()
                call_command("demo_setup", credentials=str(credentials), stdout=out)
                outputs.append(out.getvalue())
                counts.append(_counts())
            yield Seeding(
                outputs=(outputs[0], outputs[1]),
                first=counts[0],
                second=counts[1],
                login=json.loads(Path(credentials).read_text()),
                media=folder / "media",
            )
        finally:
            _forget_the_demo(kept)
            left = {
                model.__name__: (rows, before.get(model, 0))
                for model, rows in _rows_per_model().items()
                if rows != before.get(model, 0)
            }
            assert not left, f"demo rows left behind (now, before): {left}"


@pytest.fixture
def demo_client(seeded) -> Client:
    client = Client()
    assert client.login(username="demo", password=seeded.login["password"])
    return client


def test_demo_seeds_each_kind_of_history_once(seeded):
    symbols = len(SAMPLE_NAMES)
    first = seeded.first
    # Two backtests per symbol (a report of the sweep may run its best pair too).
    assert first["backtests"] >= 2 * symbols
    assert first["sweeps"] == 1
    assert first["comparisons"] == 1
    assert first["hindcasts"] == 3 * symbols
    assert first["forecasts"] == symbols
    assert first["reports"] == 2
    # The sweep and the two reports were made by Jobs, as the admin's buttons do.
    assert first["jobs"] == 3
    assert seeded.second == first
    assert "Sweep #" in seeded.outputs[0] and "(new)" in seeded.outputs[0]
    assert "(new)" not in seeded.outputs[1]
    assert "Hindcasts: 15 forecasts (0 new)" in seeded.outputs[1]


def test_the_seeded_work_is_what_it_says(seeded):
    for ticker in SAMPLE_NAMES:
        windows = set(
            BacktestRun.objects.filter(symbol__ticker=ticker).values_list(
                "fast", "slow"
            )
        )
        assert {(50, 200), (20, 100)} <= windows, ticker
    sweep = Sweep.objects.get()
    assert (sweep.symbol.ticker, sweep.fast_range, sweep.slow_range) == (
        "AAPL",
        "10:50:10",
        "60:200:20",
    )
    assert sweep.pair_count == 40
    assert sweep.result["verdict"]["text"]
    comparison = Comparison.objects.get()
    assert comparison.tickers == ["AAPL", "MSFT", "SPY"]
    assert comparison.runs.count() == 3
    assert all(job.status == Job.Status.SUCCEEDED for job in Job.objects.all())
    assert set(Job.objects.values_list("kind", flat=True)) == {"sweep", "report"}


def test_every_hindcast_has_its_actual_closes(seeded):
    for ticker in SAMPLE_NAMES:
        last_bar = Symbol.objects.get(ticker=ticker).bars.order_by("-date").first()
        hindcasts = PredictionRun.objects.filter(
            symbol__ticker=ticker, is_hindcast=True
        ).order_by("as_of")
        assert hindcasts.count() == 3
        for run in hindcasts:
            assert run.as_of < last_bar.date
            rows = forecast_rows(run)
            assert len(rows) == 30
            assert all(row["actual_close"] is not None for row in rows), (
                ticker,
                run.as_of,
            )


def test_the_reports_are_real_pdfs_of_the_sweep_and_of_a_backtest(seeded):
    sweep = Sweep.objects.get()
    aapl = Report.objects.get(symbol__ticker="AAPL")
    msft = Report.objects.get(symbol__ticker="MSFT")
    for report in (aapl, msft):
        pdf = PdfReader(seeded.media / report.pdf.name)
        text = "".join(page.extract_text() for page in pdf.pages)
        assert report.symbol.ticker in text
        assert report.size_bytes > 10_000
    assert Job.objects.get(kind="report", ticker="AAPL").parameters == {
        "sweep": sweep.pk
    }
    assert msft.backtest is not None


CHANGELISTS = [
    "core_symbol",
    "core_pricebar",
    "backtesting_backtestrun",
    "backtesting_sweep",
    "backtesting_comparison",
    "ml_predictionrun",
    "ml_trainedmodel",
    "reporting_report",
    "core_job",
]


@pytest.mark.parametrize("name", CHANGELISTS)
def test_every_list_a_newcomer_opens_has_rows_and_its_first_row_opens(
    seeded, demo_client, name
):
    page = demo_client.get(reverse(f"admin:{name}_changelist"))

    assert page.status_code == 200
    changelist = page.context["cl"]
    assert changelist.result_count > 0
    first = changelist.result_list[0]
    detail = demo_client.get(reverse(f"admin:{name}_change", args=[first.pk]))
    assert detail.status_code == 200


def test_the_dashboard_and_the_symbols_list_show_the_latest_backtests(
    seeded, demo_client
):
    assert demo_client.get(reverse("admin:index")).status_code == 200
    page = demo_client.get(reverse("admin:core_symbol_changelist")).content.decode()

    assert "Latest backtest" in page
    for ticker in SAMPLE_NAMES:
        latest = (
            BacktestRun.objects.filter(symbol__ticker=ticker)
            .order_by("-created_at", "-id")
            .first()
        )
        assert reverse("admin:backtesting_backtestrun_change", args=[latest.pk]) in page
