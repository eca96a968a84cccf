"""Reports of what you chose: /report/<symbol>/?backtest=<id> or ?sweep=<id>, the
report Job with the same parameters, and the Generate report button of a backtest's
and a sweep's admin page."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from backtesting.models import BacktestRun, Sweep
from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create
from backtesting.services.sweeps import sweep_create
from backtesting.sweeps import SweepParams, parse_range
from core.models import Job
from core.services import job_enqueue
from reporting.models import Report
from reporting.tasks import generate_report_task
from tests.factories import ACME_BARS, ACME_START, make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db


def run(ticker: str, fast: int, slow: int, **fields) -> BacktestRun:
    params = BacktestParams(initial_investment=Decimal(5000), fast=fast, slow=slow)
    return backtest_run_create(ticker=ticker, params=params, **fields)


def small_sweep(ticker: str = "ACME") -> Sweep:
    """A 3 x 3 grid: quick, and enough for a heatmap and a ranking."""
    params = SweepParams(
        initial_investment=Decimal(10_000),
        fast=parse_range(
            "10:30:10", name="fast", default=SweepParams.DEFAULT_FAST_RANGE
        ),
        slow=parse_range(
            "40:80:20", name="slow", default=SweepParams.DEFAULT_SLOW_RANGE
        ),
    )
    return sweep_create(ticker=ticker, params=params)


@pytest.fixture
def other():
    """OTHR: a second symbol with bars of its own."""
    symbol = make_symbol("OTHR", name="Other Inc")
    make_bars(
        symbol,
        start=ACME_START,
        closes=price_closes(ACME_BARS, seed=2, volatility=0.01),
    )
    return symbol


def pdf_words(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


# --- ?backtest= ----------------------------------------------------------------------


def test_a_chosen_backtest_is_reported_not_the_latest(token_client, acme):
    chosen = run("ACME", 10, 40)
    latest = run("ACME", 20, 60)
    assert latest.created_at >= chosen.created_at

    body = token_client.get(f"/report/ACME/?backtest={chosen.pk}").json()

    assert body["backtest"]["run"]["id"] == chosen.pk
    assert body["backtest"]["run"]["parameters"]["fast"] == 10
    assert body["backtest"]["note"] == ""
    assert body["chosen"] == {
        "kind": "backtest",
        "backtest": chosen.pk,
        "sweep": None,
        "display": f"Backtest #{chosen.pk}, as asked for",
    }
    assert body["sweep"] is None
    assert BacktestRun.objects.count() == 2  # nothing was run again
    # Without a choice the report is of the latest, as before.
    assert (
        token_client.get("/report/ACME/").json()["backtest"]["run"]["id"] == latest.pk
    )


def test_a_chosen_backtest_reads_its_own_price_series(token_client, acme):
    traded = backtest_run_create(
        ticker="ACME",
        params=BacktestParams(
            initial_investment=Decimal(5000), fast=10, slow=40, adjust="none"
        ),
    )
    body = token_client.get(f"/report/ACME/?backtest={traded.pk}").json()
    assert body["adjustment"]["mode"] == "none"
    assert body["backtest"]["run"]["adjustment"]["mode"] == "none"

    refused = token_client.get(f"/report/ACME/?backtest={traded.pk}&adjust=splits")
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["details"] == {"parameter": "adjust"}
    assert "as-traded prices (adjust=none)" in error["message"]


def test_the_pdf_of_a_chosen_backtest_shows_that_run(token_client, acme):
    chosen = run("ACME", 10, 40)
    run("ACME", 20, 60)
    data = token_client.get(f"/report/ACME/?backtest={chosen.pk}").json()
    response = token_client.get(f"/report/ACME/?backtest={chosen.pk}&format=pdf")

    assert response["Content-Type"] == "application/pdf"
    words = pdf_words(response.content)
    assert "Backtest: SMA crossover 10 / 40" in words
    assert f"Run #{chosen.pk}" in words
    assert f"Reported: Backtest #{chosen.pk}, as asked for." in words
    for kpi in data["backtest"]["kpis"]:
        assert kpi["strategy"]["display"] in words


@pytest.mark.parametrize(
    ("query", "status", "code", "parameter"),
    [
        ("backtest=abc", 400, "invalid_parameter", "backtest"),
        ("backtest=1.5", 400, "invalid_parameter", "backtest"),
        ("backtest=-3", 400, "invalid_parameter", "backtest"),
        ("backtest=0", 400, "invalid_parameter", "backtest"),
        ("backtest=%EF%BC%91", 400, "invalid_parameter", "backtest"),  # a wide "1"
        ("backtest=99999999999999999999", 400, "invalid_parameter", "backtest"),
        ("sweep=x", 400, "invalid_parameter", "sweep"),
        ("backtest=1&sweep=1", 400, "invalid_parameter", "backtest/sweep"),
    ],
)
def test_a_bad_choice_is_a_400_before_any_work(
    token_client, acme, query, status, code, parameter
):
    for suffix in ("", "&format=pdf"):
        response = token_client.get(f"/report/ACME/?{query}{suffix}")
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert (error["code"], error["details"]["parameter"]) == (code, parameter)
    assert not BacktestRun.objects.exists()


def test_an_unknown_backtest_or_one_of_another_symbol_is_a_404(
    token_client, acme, other
):
    theirs = run("OTHR", 10, 40)

    unknown = token_client.get(f"/report/ACME/?backtest={theirs.pk + 100}")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_backtest"
    assert f"no backtest #{theirs.pk + 100}" in unknown.json()["error"]["message"]

    elsewhere = token_client.get(f"/report/ACME/?backtest={theirs.pk}&format=pdf")
    assert elsewhere.status_code == 404
    error = elsewhere.json()["error"]
    assert error["code"] == "unknown_backtest"
    assert error["message"] == f"Backtest #{theirs.pk} is of OTHR, not ACME."
    assert BacktestRun.objects.count() == 1


# --- ?sweep= -------------------------------------------------------------------------


def test_a_sweep_report_holds_the_sweep_and_its_best_pairs_full_period_run(
    token_client, acme
):
    sweep = small_sweep()
    assert sweep.best_fast is not None

    body = token_client.get(f"/report/ACME/?sweep={sweep.pk}").json()

    section = body["sweep"]
    assert section["id"] == sweep.pk and section["pairs"] == 9
    heat = section["heatmap"]
    assert (heat["metric"], heat["fasts"], heat["slows"]) == (
        "sharpe",
        [10, 20, 30],
        [40, 60, 80],
    )
    by_pair = {(row["fast"], row["slow"]): row["sharpe"] for row in sweep.rows}
    assert heat["values"][0][0] == by_pair[(10, 40)]
    assert (section["best"]["fast"], section["best"]["slow"]) == (
        sweep.best_fast,
        sweep.best_slow,
    )
    rows = section["out_of_sample"]["rows"]
    assert [row["key"] for row in rows] == ["best", "default", "buy_hold"]
    stored = sweep.result["out_of_sample"]
    assert rows[2]["return"]["value"] == stored["buy_hold"]["total_return_pct"]
    assert section["verdict"]["text"] == sweep.result["verdict"]["text"]
    assert section["verdict"]["text"]  # in words
    assert (
        section["walk_forward"]["available"]
        == sweep.result["walk_forward"]["available"]
    )

    # The backtest section: the best pair run alone on the sweep's whole period.
    backtest = body["backtest"]["run"]
    stored_run = BacktestRun.objects.get(pk=backtest["id"])
    assert (stored_run.fast, stored_run.slow) == (sweep.best_fast, sweep.best_slow)
    assert (stored_run.start_date, stored_run.end_date) == (
        sweep.start_date,
        sweep.end_date,
    )
    assert stored_run.initial_investment == sweep.initial_investment
    assert f"in-sample best pair of sweep #{sweep.pk}" in body["backtest"]["note"]
    assert body["chosen"]["kind"] == "sweep" and body["chosen"]["sweep"] == sweep.pk
    # The pair's metrics equal the sweep's row of that pair (one engine).
    row = next(
        r
        for r in sweep.rows
        if (r["fast"], r["slow"]) == (sweep.best_fast, sweep.best_slow)
    )
    assert body["backtest"]["metrics"]["total_return_pct"] == pytest.approx(
        row["total_return_pct"]
    )
    # Asked again, the same stored run answers.
    again = token_client.get(f"/report/ACME/?sweep={sweep.pk}").json()
    assert again["backtest"]["run"]["id"] == backtest["id"]
    assert BacktestRun.objects.count() == 1


def test_the_sweep_pdf_shows_the_heatmap_the_tables_and_the_verdict(token_client, acme):
    sweep = small_sweep()
    data = token_client.get(f"/report/ACME/?sweep={sweep.pk}").json()
    response = token_client.get(f"/report/ACME/?sweep={sweep.pk}&format=pdf")

    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) <= 3
    words = pdf_words(response.content)
    section = data["sweep"]
    assert f"Parameter sweep #{sweep.pk}: fast 10:30:10 \u00d7 slow 40:80:20" in words
    assert " ".join(section["verdict"]["text"].split()) in words
    for row in section["out_of_sample"]["rows"]:
        assert row["label"] in words
        assert row["return"]["display"] in words
    # The heatmap is drawn (its axis titles are text in the PDF), not a table.
    assert "Fast window" in words and "Slow window" in words
    assert f"SMA {sweep.best_fast}/{sweep.best_slow}" in words


def test_an_unknown_sweep_or_one_of_another_symbol_is_a_404(token_client, acme, other):
    theirs = small_sweep("OTHR")

    unknown = token_client.get(f"/report/ACME/?sweep={theirs.pk + 100}")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (
        404,
        "unknown_sweep",
    )
    elsewhere = token_client.get(f"/report/ACME/?sweep={theirs.pk}")
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error"]["message"] == (
        f"Sweep #{theirs.pk} is of OTHR, not ACME."
    )


# --- the report Job ------------------------------------------------------------------


def test_the_report_job_archives_the_chosen_backtest(acme, media_root):
    chosen = run("ACME", 10, 40)
    run("ACME", 20, 60)
    job = job_enqueue(
        kind=Job.Kind.REPORT, symbol=acme, parameters={"backtest": chosen.pk}
    )

    generate_report_task(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    report = Report.objects.get()
    assert report.backtest == chosen
    assert report.snapshot["chosen"]["backtest"] == chosen.pk
    assert job.result["backtest"] == chosen.pk and job.result["report"] == report.pk


def test_the_report_job_archives_the_chosen_sweep(acme, media_root):
    sweep = small_sweep()
    job = job_enqueue(kind=Job.Kind.REPORT, symbol=acme, parameters={"sweep": sweep.pk})

    generate_report_task(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    report = Report.objects.get()
    assert report.snapshot["sweep"]["id"] == sweep.pk
    assert (report.backtest.fast, report.backtest.slow) == (
        sweep.best_fast,
        sweep.best_slow,
    )
    assert job.result["sweep"] == sweep.pk


@pytest.mark.parametrize(
    ("parameters", "code"),
    [
        ({"backtest": 999_999}, "unknown_backtest"),
        ({"sweep": 999_999}, "unknown_sweep"),
        ({"backtest": "abc"}, "invalid_parameter"),
        ({"backtest": 1, "sweep": 1}, "invalid_parameter"),
    ],
)
def test_a_report_job_with_a_bad_choice_fails_saying_why(acme, parameters, code):
    job = job_enqueue(kind=Job.Kind.REPORT, symbol=acme, parameters=parameters)

    generate_report_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error_code) == (Job.Status.FAILED, code)
    assert job.error and "Unexpected" not in job.error
    assert not Report.objects.exists()


# --- the admin buttons ---------------------------------------------------------------


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "the dialog has a CSRF token"
    return found.group(1)


@pytest.mark.parametrize("kind", ["backtest", "sweep"])
def test_the_generate_report_button_asks_then_queues_the_report_of_that_object(
    staff_client, acme, kind, django_capture_on_commit_callbacks
):
    if kind == "backtest":
        work = run("ACME", 10, 40)
        change = reverse("admin:backtesting_backtestrun_change", args=[work.pk])
    else:
        work = small_sweep()
        change = reverse("admin:backtesting_sweep_change", args=[work.pk])
    button = change.replace("change/", "report/")

    assert button in staff_client.get(change).content.decode()
    asked = staff_client.get(button)
    page = asked.content.decode()
    assert asked.status_code == 200 and "Generate a report?" in page
    assert not Job.objects.exists()  # opening the button queues nothing

    # The same POST without its CSRF token is refused.
    assert staff_client.post(button, {"_form_submitted": "True"}).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            button,
            {"_form_submitted": "True", "csrfmiddlewaretoken": csrf_token(page)},
        )
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:core_job_change", args=[job.pk])
    assert (job.kind, job.symbol, job.parameters) == (
        Job.Kind.REPORT,
        acme,
        {kind: work.pk},
    )
    # The worker's part: the report it archives is of `work`.
    generate_report_task(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    snapshot = Report.objects.get().snapshot
    assert snapshot["chosen"][kind] == work.pk


@pytest.mark.parametrize("admin_path", ["backtesting/backtestrun", "backtesting/sweep"])
def test_a_viewer_gets_no_report_button(client, acme, django_user_model, admin_path):
    from django.contrib.auth.models import Group

    viewer = django_user_model.objects.create_user(
        username="viewer", password="viewer-pass-123", is_staff=True
    )
    viewer.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(viewer)
    work = run("ACME", 10, 40) if "backtestrun" in admin_path else small_sweep()
    change = f"/admin/{admin_path}/{work.pk}/change/"
    button = f"/admin/{admin_path}/{work.pk}/report/"

    assert client.get(change).status_code == 200
    assert button not in client.get(change).content.decode()
    assert client.get(button).status_code == 403
    assert not Job.objects.exists()


@pytest.mark.parametrize("admin_path", ["backtesting/backtestrun", "backtesting/sweep"])
@pytest.mark.parametrize("object_id", ["abc", "99999"])
def test_a_report_button_of_no_object_is_a_404(admin_client, admin_path, object_id):
    assert (
        admin_client.get(f"/admin/{admin_path}/{object_id}/report/").status_code == 404
    )
    assert not Job.objects.exists()


# --- the document --------------------------------------------------------------------


def test_the_chosen_reports_answer_as_docs_openapi_says(token_client, acme, other):
    from tests.api.conftest import OPENAPI_PATH, OpenApiDocument

    openapi = OpenApiDocument(OPENAPI_PATH)
    chosen = run("ACME", 10, 40)
    sweep = small_sweep()
    for query in (f"backtest={chosen.pk}", f"sweep={sweep.pk}"):
        body = openapi.check_response(token_client.get(f"/report/ACME/?{query}"))
        assert body["chosen"]["kind"] in query
    for query in ("backtest=x", "backtest=1&sweep=2", f"sweep={sweep.pk + 9}"):
        openapi.check_response(token_client.get(f"/report/ACME/?{query}"))
