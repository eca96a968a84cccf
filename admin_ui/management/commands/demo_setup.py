"""manage.py demo_setup: the demo's login, sample prices and a history to look at.

Seeds, once, what a newcomer's first pages show: backtests, a sweep, a comparison,
forecasts as of past dates (their actuals beside them), live forecasts and archived
reports. Every step is idempotent, so `make demo` may run it on every start.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from backtesting.models import BacktestRun, Comparison, Sweep
from backtesting.params import DEFAULT_BACKTEST, BacktestParams
from backtesting.services import backtest_run_create, comparison_create
from backtesting.sweeps import SweepParams, WindowRange
from core.job_tasks import job_task_for
from core.models import Job
from core.schedules import schedules_setup
from core.selectors import bars_frame, corporate_actions, symbol_get
from core.services import api_token_create, job_create
from core.split_detection import ratio_words
from ingestion.providers.sample import SAMPLE_NAMES, SampleProvider
from ingestion.services.fetch import prices_fetch
from ml.methods import ETS
from ml.models import PredictionRun
from ml.selectors import active_model
from ml.services import forecast_create, hindcast_create, model_train
from reporting.models import Report

DEMO_USERNAME = "demo"

# The second backtest of every symbol: faster than the default, so it trades more.
SECOND_BACKTEST = BacktestParams(
    initial_investment=BacktestParams.DEFAULT_INVESTMENT, fast=20, slow=100
)
COMPARED = ["AAPL", "MSFT", "SPY"]
# A modest grid (5 x 8 windows, 40 pairs): the heatmap has cells to read, the sweep
# takes a moment.
SWEPT = "AAPL"
SWEEP = SweepParams(
    initial_investment=BacktestParams.DEFAULT_INVESTMENT,
    fast=WindowRange(10, 50, 10),
    slow=WindowRange(60, 200, 20),
)
# Hindcasts this many sessions before the last stored bar: each one's 30 predicted
# days lie inside the stored bars, so every prediction has its actual close.
HINDCAST_SESSIONS_BACK = (90, 60, 30)
# A PDF takes a second or two to render; two show the Reports page and its
# download: the sweep's report, and one of a symbol's latest backtest.
REPORTED = [SWEPT, "MSFT"]


@dataclass
class Seeded:
    """What one step found or made, for the summary."""

    total: int
    new: int

    def words(self, noun: str) -> str:
        return f"{self.total} {noun} ({self.new} new)"


class Command(BaseCommand):
    help = (
        "Create (or reuse) the demo staff login and API token, load offline sample "
        "prices and seed backtests, a sweep, a comparison, forecasts and reports. "
        "Safe to run again: nothing is made twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--credentials",
            default=str(Path(settings.BASE_DIR) / ".demo" / "login.json"),
            help="Where the demo login is kept between runs (git-ignored).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["credentials"])
        login = self._login(path)
        user = get_user_model().objects.get(username=login["username"])
        self._prices()
        for schedule in schedules_setup():
            self.stdout.write(
                f"  Schedule: {schedule.name}, next run "
                f"{schedule.next_run:%Y-%m-%d %H:%M} UTC"
            )
        self._history(user)
        self.stdout.write(
            "  Prices are offline sample data (source 'sample'), not real quotes."
        )
        for ticker in SAMPLE_NAMES:
            splits = corporate_actions(symbol_get(ticker))
            for split in (action for action in splits if action.kind == "split"):
                self.stdout.write(
                    f"  {ticker} has a sample {ratio_words(split.value)} split on "
                    f"{split.day}: its stored bars jump there, its split-adjusted "
                    "series (the default of backtests, forecasts and reports) does not."
                )
        # scripts/demo.sh prints the login from that file once the site answers.
        self.stdout.write(f"  Login of user {login['username']!r} kept in {path}.")

    def _prices(self) -> None:
        provider = SampleProvider()
        for ticker in SAMPLE_NAMES:
            result = prices_fetch(ticker=ticker, provider=provider)
            line = (
                f"  {ticker}: {result.received} sample bars "
                f"({result.inserted} new, {result.updated} changed)"
            )
            # The fetch stored the sample's splits too (its corporate-actions step),
            # before the model below is trained on the split-adjusted series.
            recorded = (result.corporate_actions or {}).get("inserted", 0)
            if recorded:
                actions = "corporate action" if recorded == 1 else "corporate actions"
                line += f", {recorded} {actions} recorded"
            # Forecasts need a trained model; the demo trains one per symbol once,
            # and an ETS model beside it for the Models tab's leaderboard (it stays
            # inactive: the linear model was there first).
            symbol = symbol_get(ticker)
            if active_model(symbol) is None:
                line += f", model v{model_train(ticker=ticker).version} trained"
            if not symbol.models.filter(method=ETS.key).exists():
                model = model_train(ticker=ticker, method=ETS.key)
                line += f", ETS model v{model.version} beside it"
            self.stdout.write(line)

    def _history(self, user: User) -> None:
        backtests = backtests_seed(user)
        self.stdout.write(
            "  Backtests: "
            + backtests.words("runs")
            + f", SMA {SECOND_BACKTEST.fast}/{SECOND_BACKTEST.slow} and "
            f"{DEFAULT_BACKTEST.fast}/{DEFAULT_BACKTEST.slow} on each symbol"
        )
        sweep, new = sweep_seed(user)
        beat = "beat" if sweep.beat_default else "did not beat"
        self.stdout.write(
            f"  Sweep #{sweep.pk}: {SWEPT} fast {SWEEP.fast} x slow {SWEEP.slow}, "
            f"{sweep.pair_count} pairs{' (new)' if new else ''}; its in-sample best, "
            f"SMA {sweep.best_fast}/{sweep.best_slow}, {beat} the default "
            f"{DEFAULT_BACKTEST.fast}/{DEFAULT_BACKTEST.slow} out of sample"
        )
        comparison, new = comparison_seed(user)
        self.stdout.write(
            f"  Comparison #{comparison.pk}: {', '.join(COMPARED)}, SMA "
            f"{comparison.fast}/{comparison.slow}{' (new)' if new else ''}"
        )
        hindcasts = hindcasts_seed(user)
        back = ", ".join(str(n) for n in HINDCAST_SESSIONS_BACK)
        self.stdout.write(
            f"  Hindcasts: {hindcasts.words('forecasts')} as of {back} sessions "
            "before each symbol's last bar, their actual closes beside them"
        )
        forecasts = forecasts_seed(user)
        self.stdout.write(
            f"  Forecasts: {forecasts.words('live forecasts')}, one per symbol "
            "from its active model"
        )
        reports = reports_seed(user, sweep)
        self.stdout.write(
            f"  Reports: {reports.words('PDFs')}: {SWEPT}'s of the sweep, "
            f"{', '.join(REPORTED[1:])}'s of the latest backtest"
        )

    def _login(self, path: Path) -> dict[str, str]:
        """Reuse the stored demo login; create or reset it when it is missing."""
        user_model = get_user_model()
        saved: dict[str, str] = {}
        if path.exists():
            saved = json.loads(path.read_text())
        user = user_model.objects.filter(username=DEMO_USERNAME).first()
        if (
            user is not None
            and saved.get("password")
            and user.check_password(saved["password"])
            and saved.get("token")
        ):
            return saved
        password = secrets.token_urlsafe(12)
        if user is None:
            user = user_model.objects.create_superuser(
                username=DEMO_USERNAME, email="demo@example.com", password=password
            )
        else:
            user.set_password(password)
            user.is_staff = user.is_superuser = user.is_active = True
            user.save()
        token = api_token_create(user=user, name="demo").raw_key
        saved = {"username": DEMO_USERNAME, "password": password, "token": token}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(saved))
        path.chmod(0o600)
        return saved


def backtests_seed(user: User) -> Seeded:
    """Two backtests per symbol; backtest_run_create answers a stored one as it is.

    The default runs go last, so the latest backtest of a symbol (the Symbols list's
    column) is the familiar 50/200 unless a report runs a sweep's best pair later.
    """
    before = BacktestRun.objects.count()
    for params in (SECOND_BACKTEST, DEFAULT_BACKTEST):
        for ticker in SAMPLE_NAMES:
            backtest_run_create(ticker=ticker, params=params, user=user)
    total = BacktestRun.objects.count()
    return Seeded(total=total, new=total - before)


def comparison_seed(user: User) -> tuple[Comparison, bool]:
    """The default backtest compared on COMPARED: the one already made, or a new one."""
    params = DEFAULT_BACKTEST
    candidates = Comparison.objects.filter(
        fast=params.fast,
        slow=params.slow,
        initial_investment=params.initial_investment,
        commission=params.commission,
        adjust=params.adjust,
        start_date=None,
        end_date=None,
    )
    # Matched in Python: JSON equality is not a portable database look-up.
    for comparison in candidates:
        if comparison.tickers == COMPARED:
            return comparison, False
    return comparison_create(tickers=COMPARED, params=params, user=user), True


def sweep_seed(user: User) -> tuple[Sweep, bool]:
    """The demo's sweep: the one a sweep Job made before, or a new sweep Job's."""
    stored = Sweep.objects.filter(
        symbol__ticker=SWEPT,
        fast_range=str(SWEEP.fast),
        slow_range=str(SWEEP.slow),
        initial_investment=SWEEP.initial_investment,
        commission=SWEEP.commission,
        adjust=SWEEP.adjust,
        oos_fraction=SWEEP.oos,
    ).first()
    if stored is not None:
        return stored, False
    job = _job_run_here(
        kind=Job.Kind.SWEEP, ticker=SWEPT, parameters=SWEEP.as_json(), user=user
    )
    return Sweep.objects.get(pk=job.result["sweep"]), True


def hindcasts_seed(user: User) -> Seeded:
    """Forecasts as of past sessions, each from a model trained on the bars up to
    its day (hindcast_create returns a stored one as it is)."""
    new = 0
    for ticker in SAMPLE_NAMES:
        days = list(bars_frame(symbol_get(ticker))["date"])
        for back in HINDCAST_SESSIONS_BACK:
            _, created = hindcast_create(
                ticker=ticker, as_of=days[-1 - back], user=user
            )
            new += created
    total = PredictionRun.objects.filter(is_hindcast=True).count()
    return Seeded(total=total, new=new)


def forecasts_seed(user: User) -> Seeded:
    """The live 30-day forecast of each symbol (forecast_create reuses a stored one)."""
    new = 0
    for ticker in SAMPLE_NAMES:
        _, created = forecast_create(ticker=ticker, user=user)
        new += created
    live = PredictionRun.objects.filter(is_hindcast=False).count()
    return Seeded(total=live, new=new)


def _job_run_here(
    *, kind: str, ticker: str, parameters: dict[str, Any], user: User
) -> Job:
    """A Job run in this process by its kind's task, as the worker would run it.

    The Jobs page then lists it with its outcome and a link to what it made; it is
    never handed to the queue, so the worker cannot run it a second time.
    """
    job = job_create(
        kind=kind,
        ticker=ticker,
        symbol=symbol_get(ticker),
        parameters=parameters,
        created_by=user,
    )
    import_string(job_task_for(kind))(job.pk)
    job.refresh_from_db()
    if job.status != Job.Status.SUCCEEDED:
        raise CommandError(f"The demo's {kind} job for {ticker} failed: {job.error}")
    return job


def reports_seed(user: User, sweep: Sweep) -> Seeded:
    """An archived PDF per symbol of REPORTED, each made by a report Job: the first
    reports the sweep, the others their latest backtest."""
    new = 0
    for ticker in REPORTED:
        if Report.objects.filter(symbol__ticker=ticker).exists():
            continue
        parameters: dict[str, Any] = {"sweep": sweep.pk} if ticker == SWEPT else {}
        _job_run_here(
            kind=Job.Kind.REPORT, ticker=ticker, parameters=parameters, user=user
        )
        new += 1
    total = Report.objects.filter(symbol__ticker__in=REPORTED).count()
    return Seeded(total=total, new=new)
