"""manage.py demo_setup: a staff login, an API token and sample prices for the demo."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from core.schedules import schedules_setup
from core.selectors import corporate_actions, symbol_get
from core.services import api_token_create
from core.split_detection import ratio_words
from ingestion.providers.sample import SAMPLE_NAMES, SampleProvider
from ingestion.services.fetch import prices_fetch
from ml.selectors import active_model
from ml.services import model_train

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = (
        "Create (or reuse) the demo staff login and API token, and load offline "
        "sample prices. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--credentials",
            default=str(Path(settings.BASE_DIR) / ".demo" / "login.json"),
            help="Where the demo login is kept between runs (git-ignored).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        login = self._login(Path(options["credentials"]))
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
            # Forecasts need a trained model; the demo trains one per symbol once.
            if active_model(symbol_get(ticker)) is None:
                line += f", model v{model_train(ticker=ticker).version} trained"
            self.stdout.write(line)
        for schedule in schedules_setup():
            self.stdout.write(
                f"  Schedule: {schedule.name}, next run "
                f"{schedule.next_run:%Y-%m-%d %H:%M} UTC"
            )
        base = options["base_url"].rstrip("/")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"StockDesk admin: {base}/admin/"))
        self.stdout.write(f"  user:     {login['username']}")
        self.stdout.write(f"  password: {login['password']}")
        self.stdout.write(
            f'  API:      curl -H "Authorization: Bearer {login["token"]}" '
            f"{base}/fetch/AAPL/"
        )
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

    def _login(self, path: Path) -> dict[str, str]:
        """Reuse the stored demo login; create or reset it when it is missing."""
        user_model = get_user_model()
        saved: dict[str, str] = {}
        if path.exists():
            saved = json.loads(path.read_text())
        user = user_model.objects.filter(username=DEMO_USERNAME).first()
        password_ok = bool(saved.get("password")) and user is not None
        if (
            password_ok
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
