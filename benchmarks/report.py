"""Report timings (JSON and PDF of a 2-year symbol); writes the Report section of RESULTS.md.

Run from the repository root; it builds a throw-away SQLite database in a temporary folder:

    .venv/bin/python -m benchmarks.report            # measure, print, update RESULTS.md
    .venv/bin/python -m benchmarks.report --no-write # measure and print only
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

if not __package__:  # run as `python benchmarks/report.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BEGIN_MARKER = "<!-- report:begin (written by benchmarks/report.py) -->"
END_MARKER = "<!-- report:end -->"
JSON_TARGET_S = 0.100
PDF_TARGET_S = 1.5
TICKER = "AAPL"


def setup_django(folder: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "core.settings"
    os.environ["SECRET_KEY"] = "benchmark-only"  # noqa: S105 - a throw-away database
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["WHITENOISE_USE_FINDERS"] = "true"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="repetitions per case")
    parser.add_argument(
        "--no-write", action="store_true", help="leave RESULTS.md alone"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        setup_django(Path(folder))
        from django.contrib.auth import get_user_model
        from django.test import Client

        from benchmarks.results import (
            RESULTS_PATH,
            Timing,
            format_seconds,
            machine,
            measure,
            write_section,
        )
        from core.services import api_token_create
        from ingestion.providers.sample import SampleProvider
        from ingestion.services import prices_fetch
        from ml.services import model_train

        fetched = prices_fetch(
            ticker=TICKER, provider=SampleProvider(today=date(2026, 11, 24))
        )
        model_train(ticker=TICKER)
        user = get_user_model().objects.create_user("bench", is_staff=True)
        client = Client(
            HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='b').raw_key}"
        )
        client.get(
            f"/report/{TICKER}/"
        )  # runs and stores the default backtest and forecast

        def get(path: str) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")

        json_median, json_p95 = measure(
            lambda: get(f"/report/{TICKER}/"), runs=args.runs, warmup=2
        )
        pdf_median, pdf_p95 = measure(
            lambda: get(f"/report/{TICKER}/?format=pdf"),
            runs=max(3, args.runs // 2),
            warmup=1,
        )
        timings = [
            Timing(
                "JSON report (GET /report/, served)",
                fetched.received,
                args.runs,
                json_median,
                json_p95,
                JSON_TARGET_S,
            ),
            Timing(
                "PDF report (GET /report/?format=pdf)",
                fetched.received,
                max(3, args.runs // 2),
                pdf_median,
                pdf_p95,
                PDF_TARGET_S,
            ),
        ]
        info = machine()
        rows = [
            "| case | bars | runs | median | p95 | target |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
            *(
                f"| {t.label} | {t.bars:,} | {t.runs} | {format_seconds(t.median_s)} "
                f"| {format_seconds(t.p95_s)} | {t.verdict} |"
                for t in timings
            ),
        ]
        print("\n".join(rows))
        if not args.no_write:
            body = "\n".join(
                [
                    BEGIN_MARKER,
                    f"Measured {info['date']} with `python -m benchmarks.report`.",
                    "",
                    f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}; Python {info['python']}",
                    f"- Data: {fetched.received} bars of offline sample prices for {TICKER} "
                    "(2 years), its default 50/200 backtest and a model trained on it; both "
                    "stored before timing, so each call reads them (the forecast for the same "
                    "day is reused). Through Django's test client with an API token, SQLite.",
                    "",
                    *rows,
                    END_MARKER,
                ]
            )
            write_section(
                RESULTS_PATH,
                heading="Report",
                begin=BEGIN_MARKER,
                end=END_MARKER,
                body=body,
            )
            print(f"updated {RESULTS_PATH.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
