"""Report timings (JSON and PDF of a 2-year symbol); writes the Report section of RESULTS.md.

`.venv/bin/python -m benchmarks.report [--no-write]` from the repository root; it
builds a throw-away SQLite database in a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

if not __package__:  # run as `python benchmarks/report.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import (
    Section,
    Timing,
    arguments,
    machine,
    measure,
    timings_table,
)

SECTION = Section("report", heading="Report")
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
    args = arguments(__doc__.splitlines()[0], runs=20).parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        setup_django(Path(folder))
        from django.contrib.auth import get_user_model
        from django.test import Client

        from core.services import api_token_create
        from ingestion.providers.sample import SampleProvider
        from ingestion.services.fetch import prices_fetch
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

        def timed(
            label: str, path: str, *, runs: int, warmup: int, target: float
        ) -> Timing:
            median, p95 = measure(lambda: get(path), runs=runs, warmup=warmup)
            return Timing(label, fetched.received, runs, median, p95, target)

        timings = [
            timed(
                "JSON report (GET /report/, served)",
                f"/report/{TICKER}/",
                runs=args.runs,
                warmup=2,
                target=JSON_TARGET_S,
            ),
            timed(
                "PDF report (GET /report/?format=pdf)",
                f"/report/{TICKER}/?format=pdf",
                runs=max(3, args.runs // 2),
                warmup=1,
                target=PDF_TARGET_S,
            ),
        ]
        info = machine()
        rows = timings_table(timings)
        print("\n".join(rows))
        if not args.no_write:
            body = SECTION.body(
                info,
                [
                    f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}; Python {info['python']}",
                    f"- Data: {fetched.received} bars of offline sample prices for {TICKER} "
                    "(2 years), its default 50/200 backtest and a model trained on it; both "
                    "stored before timing, so each call reads them (the forecast for the same "
                    "day is reused). Through Django's test client with an API token, SQLite.",
                    "",
                    *rows,
                ],
            )
            SECTION.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
