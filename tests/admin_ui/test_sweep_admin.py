"""Sweeps in the admin: the Run sweep action, the list, the heatmap page and its cells
leading to single runs, for Analysts and Viewers."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from backtesting.models import BacktestRun, Sweep
from backtesting.services import sweep_create
from backtesting.sweeps import SweepParams, WindowRange
from core.models import Job
from tests.admin_ui.conftest import post_action

pytestmark = pytest.mark.django_db

SYMBOLS = "/admin/core/symbol/"


@pytest.fixture
def sweep(acme) -> Sweep:
    return sweep_create(
        ticker="ACME",
        params=SweepParams(
            initial_investment=Decimal(10_000),
            fast=WindowRange(10, 50, 20),
            slow=WindowRange(60, 200, 70),
        ),
    )


def page_of(client, sweep: Sweep, query: str = "") -> str:
    url = reverse("admin:backtesting_sweep_change", args=[sweep.pk])
    response = client.get(url + query)
    assert response.status_code == 200
    return response.content.decode()


def test_run_sweep_asks_for_the_grid_then_queues_a_job_per_symbol(
    analyst_client, acme, django_capture_on_commit_callbacks
):
    form = post_action(analyst_client, SYMBOLS, "run_sweep", [acme.pk])
    assert form.status_code == 200
    text = form.content.decode()
    assert "Run a parameter sweep" in text
    assert 'value="5:70:5"' in text and 'value="20:240:20"' in text

    with django_capture_on_commit_callbacks(execute=True):
        done = post_action(
            analyst_client,
            SYMBOLS,
            "run_sweep",
            [acme.pk],
            apply="1",
            initial_investment="5000",
            fast_range="10:30:10",
            slow_range="60:120:60",
            oos="0.25",
            commission="0",
            adjust="splits",
        )
    assert done.status_code == 302
    job = Job.objects.get(kind=Job.Kind.SWEEP)
    assert job.parameters["fast"] == "10:30:10" and job.parameters["oos"] == 0.25
    assert job.status == Job.Status.SUCCEEDED, job.error
    sweep = Sweep.objects.get()
    assert (sweep.pair_count, sweep.oos_fraction) == (6, 0.25)


def test_a_bad_range_is_shown_on_its_field_and_queues_nothing(analyst_client, acme):
    page = post_action(
        analyst_client,
        SYMBOLS,
        "run_sweep",
        [acme.pk],
        apply="1",
        initial_investment="5000",
        fast_range="2:100:1",
        slow_range="101:110:1",
        oos="0.3",
        commission="0",
    )
    assert page.status_code == 200
    assert "at most 400" in page.content.decode()
    bad_step = post_action(
        analyst_client,
        SYMBOLS,
        "run_sweep",
        [acme.pk],
        apply="1",
        initial_investment="5000",
        fast_range="5:70:0",
        slow_range="20:240:20",
        oos="0.3",
        commission="0",
    )
    assert "step must be at least 1" in bad_step.content.decode()
    assert not Job.objects.exists()


def test_a_viewer_is_not_offered_run_sweep(viewer_client, acme):
    page = viewer_client.get(SYMBOLS).content.decode()
    assert "run_sweep" not in page
    refused = post_action(viewer_client, SYMBOLS, "run_sweep", [acme.pk], apply="1")
    assert refused.status_code == 403
    assert not Job.objects.exists()


def test_the_list_shows_the_grid_best_pair_and_whether_it_beat_the_default(
    admin_client, sweep
):
    page = admin_client.get(reverse("admin:backtesting_sweep_changelist")).content
    text = page.decode()
    assert "ACME" in text
    assert "fast 10:50:20, slow 60:200:70" in text
    assert f"SMA {sweep.best_fast}/{sweep.best_slow}" in text
    assert ("yes," if sweep.beat_default else ">no<") in text


def test_the_page_shows_heatmap_tables_and_verdict(analyst_client, sweep):
    text = page_of(analyst_client, sweep)
    assert sweep.result["verdict"]["text"] in text
    assert 'id="sweep-heatmap"' in text and 'data-metric="sharpe"' in text
    assert "Out of sample" in text and "Walk-forward" in text
    assert "In-sample best" in text and "Buy and hold" in text
    # 9 pairs, each a link to its single run.
    links = re.findall(r'class="sweep-cell" href="([^"]+)"', text)
    assert len(links) == 9
    assert reverse("admin:backtesting_sweep_run", args=[sweep.pk, 10, 60]) in links


def test_the_metric_is_chosen_by_a_get_parameter(analyst_client, sweep):
    text = page_of(analyst_client, sweep, "?metric=total_return_pct")
    assert 'data-metric="total_return_pct"' in text
    row = next(r for r in sweep.rows if (r["fast"], r["slow"]) == (10, 60))
    shown = f"{row['total_return_pct']:+,.1f} %".replace("-", "\u2212")
    assert shown in text
    assert 'data-metric="sharpe"' in page_of(analyst_client, sweep, "?metric=junk")


def test_a_cell_runs_that_pair_once_and_opens_the_backtest(analyst_client, sweep):
    url = reverse("admin:backtesting_sweep_run", args=[sweep.pk, 30, 130])
    first = analyst_client.get(url)
    run = BacktestRun.objects.get()
    assert first.status_code == 302
    assert first["Location"] == reverse(
        "admin:backtesting_backtestrun_change", args=[run.pk]
    )
    assert (run.fast, run.slow, run.bar_count) == (30, 130, sweep.bar_count)
    row = next(r for r in sweep.rows if (r["fast"], r["slow"]) == (30, 130))
    assert {key: row[key] for key in run.metrics} == run.metrics
    again = analyst_client.get(url)
    assert again["Location"] == first["Location"]
    assert BacktestRun.objects.count() == 1


def test_a_pair_outside_the_grid_is_404(analyst_client, sweep):
    url = reverse("admin:backtesting_sweep_run", args=[sweep.pk, 20, 60])
    assert analyst_client.get(url).status_code == 404


def test_a_viewer_sees_the_heatmap_with_links_only_to_stored_runs(
    viewer_client, analyst_client, sweep
):
    text = page_of(viewer_client, sweep)
    assert 'id="sweep-heatmap"' in text
    assert re.findall(r'class="sweep-cell" href="([^"]+)"', text) == []
    assert "needs the run-backtest permission" in text

    analyst_client.get(reverse("admin:backtesting_sweep_run", args=[sweep.pk, 10, 60]))
    run = BacktestRun.objects.get()
    links = re.findall(
        r'class="sweep-cell" href="([^"]+)"', page_of(viewer_client, sweep)
    )
    assert links == [reverse("admin:backtesting_backtestrun_change", args=[run.pk])]

    refused = viewer_client.get(
        reverse("admin:backtesting_sweep_run", args=[sweep.pk, 30, 130])
    )
    assert refused.status_code == 403
    assert BacktestRun.objects.count() == 1


def test_the_sidebar_lists_sweeps(analyst_client, sweep):
    page = analyst_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:backtesting_sweep_changelist") in page
