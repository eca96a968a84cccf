"""/report/: one dict for JSON and PDF, a readable PDF, a renderer that fetches nothing."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from django.template import Context, Template
from django.test import Client
from pypdf import PdfReader

from backtesting.models import BacktestRun
from ml.services import model_train
from reporting.models import Report
from reporting.pdf import render_pdf
from reporting.services import report_archive
from tests.factories import ACME_BARS, make_symbol

pytestmark = pytest.mark.django_db


@pytest.fixture
def modelled(acme):
    model_train(ticker="ACME")
    return acme


def pdf_text(content: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def test_json_report_runs_the_default_backtest_when_there_is_none(
    token_client, modelled
):
    body = token_client.get("/report/acme/").json()

    assert body["symbol"] == "ACME" and body["name"] == "Acme Corp"
    backtest = body["backtest"]
    assert backtest["available"]
    assert "ran the default one (SMA 50/200, 10,000 invested" in backtest["note"]
    assert backtest["run"]["parameters"]["fast"] == 50
    assert BacktestRun.objects.count() == 1
    labels = [kpi["label"] for kpi in backtest["kpis"]]
    assert {"Total return", "Max drawdown", "Sharpe", "Trades"} <= set(labels)
    forecast = body["forecast"]
    assert forecast["available"] and len(forecast["predictions"]) == 30
    assert [h["horizon_days"] for h in forecast["evaluation"]["horizons"]] == [1, 5, 30]
    assert body["data"]["bars"] == ACME_BARS and body["disclaimer"]


def test_the_latest_backtest_is_used_not_rerun(token_client, modelled):
    token_client.get("/backtest/ACME/5000/?fast=10&slow=40")
    body = token_client.get("/report/ACME/").json()
    assert body["backtest"]["run"]["parameters"]["fast"] == 10
    assert body["backtest"]["note"] == ""
    assert BacktestRun.objects.count() == 1


def test_without_a_model_the_forecast_section_says_why(token_client, acme):
    forecast = token_client.get("/report/ACME/").json()["forecast"]
    assert forecast["available"] is False
    assert "no active forecasting model" in forecast["note"]
    # What staff can do in the admin, never a shell command.
    assert (
        "select ACME in Admin → Symbols and run the Train model action"
        in (forecast["note"])
    )
    assert "manage.py" not in forecast["note"]


def test_the_pdf_shows_every_kpi_of_the_json_as_written(token_client, modelled):
    data = token_client.get("/report/ACME/").json()
    response = token_client.get("/report/ACME/?format=pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    day = data["generated_at"][:10]
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="ACME-report-{day}.pdf"'
    )
    text, pages = pdf_text(response.content)
    assert 2 <= pages <= 3
    flat = " ".join(text.split())
    for kpi in data["backtest"]["kpis"]:
        assert kpi["label"] in flat
        assert kpi["strategy"]["display"] in flat, kpi
        assert kpi["buy_hold"]["display"] in flat, kpi
    assert data["forecast"]["headline"]["predicted"] in flat
    for horizon in data["forecast"]["evaluation"]["horizons"]:
        assert horizon["display"]["model_mae"] in flat
        assert horizon["display"]["naive_mae"] in flat
    verdict = data["forecast"]["verdict"]["summary"]
    assert verdict in flat
    # Stated above the point forecast.
    assert flat.index(verdict) < flat.index(data["forecast"]["headline"]["predicted"])
    assert "Nothing here is investment advice" in flat


def test_accept_header_asks_for_the_pdf(token_client, modelled):
    response = token_client.get("/report/ACME/", HTTP_ACCEPT="application/pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_every_page_has_ink(token_client, modelled, tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is installed by `make test`"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(token_client.get("/report/ACME/?format=pdf").content)
    subprocess.run(
        [pdftoppm, "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 2 <= len(pages) <= 3
    from PIL import Image

    for page in pages:
        pixels = np.asarray(Image.open(page).convert("L"))
        inked = np.count_nonzero(pixels < 200) / pixels.size
        assert inked > 0.01, f"{page.name} looks blank ({inked:.2%} ink)"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/report/NOPE/", 404, "unknown_symbol"),
        ("/report/ACME/?format=xml", 400, "invalid_parameter"),
        ("/report/AC;ME/", 400, "invalid_symbol"),
    ],
)
def test_bad_requests_are_json_errors(token_client, acme, path, status, code):
    response = token_client.get(path)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_a_symbol_without_bars_is_404(token_client):
    make_symbol("EMPTY")
    assert token_client.get("/report/EMPTY/").json()["error"]["code"] == "no_data"


def test_anonymous_callers_are_refused(acme):
    assert Client().get("/report/ACME/").status_code == 401


def test_the_archive_keeps_the_pdf_and_the_json(modelled, media_root):
    report = report_archive(ticker="ACME")

    stored = Path(report.pdf.path)
    assert stored.is_relative_to(media_root)
    assert stored.name.startswith("ACME-report-") and stored.suffix == ".pdf"
    assert stored.stat().st_size == report.size_bytes > 10_000
    text, _ = pdf_text(stored.read_bytes())
    flat = " ".join(text.split())
    for kpi in report.snapshot["backtest"]["kpis"]:
        assert kpi["strategy"]["display"] in flat
    assert report.backtest is not None and report.forecast is not None
    assert Report.objects.count() == 1


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { background: red; }")

    def log_message(self, *args):
        pass


def test_the_renderer_fetches_no_local_file_and_calls_nobody(tmp_path):
    from PIL import Image

    secret = tmp_path / "secret.png"
    Image.new("RGB", (40, 40), "red").save(secret)
    allowed = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(allowed, format="PNG")
    inline = "data:image/png;base64," + base64.b64encode(allowed.getvalue()).decode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.hits.clear()
    try:
        html = Template(
            '<html><head><link rel="stylesheet" href="http://127.0.0.1:{{ port }}/evil.css">'
            '</head><body><p>hello</p><img src="file://{{ secret }}">'
            '<img src="{{ inline }}"></body></html>'
        ).render(
            Context(
                {
                    "port": server.server_address[1],
                    "secret": secret,
                    "inline": inline,
                }
            )
        )
        pdf = render_pdf(html)
    finally:
        server.shutdown()
    assert _Recorder.hits == []
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    assert "hello" in page.extract_text()
    # Only the data: image made it in: the local PNG (40x40) was never read.
    sizes = [image.image.size for image in page.images]
    assert sizes == [(30, 20)]
