"""django-import-export resources: what each export file holds, column by column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.results import Result

from backtesting.models import BACKTEST_INPUTS, BacktestRun, Trade
from core.bar_checks import (
    Bar,
    SeriesBar,
    closed_day_warning,
    jump_warnings,
    not_final_problem,
    parse_day,
    read_bar,
)
from core.errors import InvalidInput
from core.market import BAR_COLUMNS, normalise_ticker
from core.models import CorporateAction, PriceBar, Symbol
from core.selectors import corporate_actions
from core.services import prices_upsert, symbol_figures_refresh
from core.sessions import last_completed_session


class SymbolResource(resources.ModelResource):
    class Meta:
        model = Symbol
        fields = (
            "ticker",
            "name",
            "exchange",
            "currency",
            "is_active",
            "last_fetched_at",
        )
        export_order = fields
        import_id_fields = ("ticker",)


class IsoDateWidget(widgets.DateWidget):
    """YYYY-MM-DD dates, with an error that names the value staff typed."""

    def __init__(self) -> None:
        super().__init__("%Y-%m-%d")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(
                f"Date {value!r} is not a valid YYYY-MM-DD date."
            ) from None


# A price file's columns; `source` may be added (empty: import).
PRICE_COLUMNS = ("symbol", "date", "open", "high", "low", "close", "volume")


def file_row(number: int) -> int:
    """The spreadsheet row of django-import-export's data row `number` (1 = the first
    bar): the header is row 1, as a spreadsheet numbers the file staff look at."""
    return number + 1


class PriceImportResult(Result):
    """An import's outcome with each problem and each warning as one sentence."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []

    @property
    def problems(self) -> list[str]:
        """What keeps the file from being stored: the file's, then row by row."""
        by_row = [
            (row.number, message)
            for row in self.invalid_rows
            for messages in row.error_dict.values()
            for message in messages
        ]
        # Not expected once a row passed the checks; said in words all the same.
        by_row += [
            (
                row.number,
                f"Row {file_row(row.number)}: it could not be stored ({error.error})",
            )
            for row in self.error_rows
            for error in row.errors
        ]
        by_row.sort(key=lambda found: found[0])
        return [str(error.error) for error in self.base_errors] + [
            message for _, message in by_row
        ]


class PriceBarResource(resources.ModelResource):
    """Bars in and out; an import row names its symbol by ticker (it must exist).

    An import checks every row before any is written and states each row's problems
    in one sentence (core.bar_checks); a file with any problem stores nothing. Bars
    on closed days and closes that jump from their neighbours are warnings, listed
    in the preview and stored only once staff confirm them (docs/admin.md).
    """

    symbol = fields.Field(
        attribute="symbol",
        column_name="symbol",
        widget=widgets.ForeignKeyWidget(Symbol, field="ticker"),
    )
    date = fields.Field(attribute="date", column_name="date", widget=IsoDateWidget())

    class Meta:
        model = PriceBar
        fields = ("symbol", "date", "open", "high", "low", "close", "volume", "source")
        export_order = fields
        import_id_fields = ("symbol", "date")
        # A backstop behind the row checks: the model's own checks, constraints
        # included, reworded by validate_instance.
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def __init__(self, *, warnings_accepted: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Ticked on the preview's confirm form; without it a file with warnings
        # stores nothing.
        self.warnings_accepted = warnings_accepted
        self._start_file()

    @classmethod
    def get_result_class(cls) -> type[PriceImportResult]:
        return PriceImportResult

    def _start_file(self) -> None:
        self._dry_run = False
        self._last_closed = date.max
        self._columns_missing = False
        self._symbols: dict[str, Symbol] = {}
        # Per ticker, the stored bars around the file's days, read before any row
        # is written (a dry run writes too, and rolls back at the end).
        self._stored: dict[str, dict[date, SeriesBar]] = {}
        self._splits: dict[str, list[tuple[date, Decimal]]] = {}
        self._first_row_of: dict[tuple[str, date], int] = {}
        self._labels: dict[int, str] = {}
        self._checked: tuple[int, str, Bar] | None = None
        self._file_bars: list[tuple[str, SeriesBar]] = []
        self._written_symbols: set[int] = set()

    def import_data(self, dataset: Any, dry_run: bool = False, **kwargs: Any) -> Any:
        self._start_file()
        self._dry_run = dry_run
        # Once per file: finding the session takes milliseconds.
        self._last_closed = last_completed_session(timezone.now())
        return super().import_data(dataset, dry_run=dry_run, **kwargs)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        dataset.headers = [str(name or "").strip().lower() for name in dataset.headers]
        missing = [column for column in PRICE_COLUMNS if column not in dataset.headers]
        if missing:
            self._columns_missing = True
            # Every row would only repeat the missing columns.
            del dataset[0 : len(dataset)]
            raise ValueError(
                f"The file has no {', '.join(missing)} column"
                f"{'s' if len(missing) > 1 else ''}: a price import needs the columns "
                f"{','.join(PRICE_COLUMNS)} (and may add source), named in its first "
                "row."
            )
        self._read_stored(dataset.dict)

    def _check_import_id_fields(self, headers: Any) -> None:
        # before_import has said which columns are missing, in words.
        if not self._columns_missing:
            super()._check_import_id_fields(headers)

    def _read_stored(self, rows: list[dict[str, Any]]) -> None:
        days: dict[str, list[date]] = {}
        for values in rows:
            try:
                ticker = normalise_ticker(str(values.get("symbol") or ""))
            except InvalidInput:
                continue
            day = _day_or_none(values.get("date"))
            days.setdefault(ticker, []).extend([day] if day else [])
        self._symbols = {
            symbol.ticker: symbol for symbol in Symbol.objects.filter(ticker__in=days)
        }
        for ticker, symbol in self._symbols.items():
            if not days[ticker]:
                continue
            first, last = min(days[ticker]), max(days[ticker])
            bars = PriceBar.objects.filter(symbol=symbol).only("date", "open", "close")
            stored = [
                *bars.filter(date__range=(first, last)),
                bars.filter(date__lt=first).order_by("-date").first(),
                bars.filter(date__gt=last).order_by("date").first(),
            ]
            self._stored[ticker] = {
                bar.date: SeriesBar(bar.date, bar.open, bar.close)
                for bar in stored
                if bar is not None
            }
            self._splits[ticker] = [
                (action.day, action.value)
                for action in corporate_actions(symbol)
                if action.kind == CorporateAction.Kind.SPLIT
            ]

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        number = file_row(kwargs["row_number"])
        self._checked = None
        problems: list[str] = []
        ticker = self._known_ticker(row.get("symbol"), problems)
        bar, bar_problems = read_bar(row)
        problems += bar_problems
        # prices_upsert would hold such a bar back; say so instead of storing less.
        not_final = bar and not_final_problem(bar.day, self._last_closed)
        if not_final:
            problems.append(not_final)
            bar = None
        source = self._source(row.get("source"), problems)
        day = bar.day if bar else _day_or_none(row.get("date"))
        label = f"Row {number}"
        if ticker and day:
            label += f" ({ticker} {day.isoformat()})"
            first = self._first_row_of.setdefault((ticker, day), number)
            if first != number:
                problems.append(
                    f"row {first} has {ticker} {day.isoformat()} too; keep one of them"
                )
        self._labels[number] = label
        if problems or bar is None or ticker is None:
            raise ValidationError(f"{label}: {'; '.join(problems)}.")
        # The checked values, as stored (prices rounded to 4 decimals, as a fetch
        # stores them), so the widgets and the model's checks read the same.
        row["symbol"] = ticker
        row["date"] = bar.day.isoformat()
        for column in ("open", "high", "low", "close"):
            row[column] = str(bar.rounded(column))
        row["volume"] = str(bar.volume)
        row["source"] = source
        self._checked = (number, ticker, bar)

    def _known_ticker(self, raw: object, problems: list[str]) -> str | None:
        text = "" if raw is None else str(raw).strip()
        if not text:
            problems.append("the symbol is empty")
            return None
        try:
            ticker = normalise_ticker(text)
        except InvalidInput as exc:
            problems.append(exc.message.rstrip("."))
            return None
        if ticker not in self._symbols:
            problems.append(
                f"symbol {ticker} is not in StockDesk; add it first (Symbols, or "
                "fetch its prices)"
            )
            return None
        return ticker

    def _source(self, raw: object, problems: list[str]) -> str:
        text = "" if raw is None else str(raw).strip().lower()
        if not text:
            return PriceBar.Source.IMPORT
        if text not in PriceBar.Source.values:
            problems.append(
                f"source {text!r} is not one of {', '.join(PriceBar.Source.values)} "
                "(leave it empty for import)"
            )
        return text

    def validate_instance(
        self,
        instance: PriceBar,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        try:
            super().validate_instance(
                instance, import_validation_errors, validate_unique
            )
        except ValidationError as exc:
            number = self._checked[0] if self._checked else None
            label = self._labels.get(number or 0, "A row")
            details = [
                message if field == NON_FIELD_ERRORS else f"{field}: {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
            raise ValidationError(f"{label}: {' '.join(details)}") from None

    def do_instance_save(self, instance: PriceBar, is_create: bool) -> None:
        # Through the one writer of bars, so an import is rounded and checked the
        # way a fetch is.
        bar = pd.DataFrame(
            [[getattr(instance, column) for column in BAR_COLUMNS]],
            columns=list(BAR_COLUMNS),
        )
        # One row at a time: the symbols' figures are refreshed once, at the end.
        prices_upsert(
            symbol=instance.symbol,
            bars=bar,
            source=instance.source,
            refresh_figures=False,
        )
        self._written_symbols.add(instance.symbol.pk)
        # The admin's import log names each row's object by its key.
        instance.pk = (
            PriceBar.objects.filter(symbol=instance.symbol, date=instance.date)
            .values_list("pk", flat=True)
            .get()
        )

    def after_import_row(
        self, row: dict[str, Any], row_result: Any, **kwargs: Any
    ) -> None:
        if self._checked is None or not row_result.is_valid():
            return
        number, ticker, bar = self._checked
        self._file_bars.append(
            (
                ticker,
                SeriesBar(
                    bar.day,
                    bar.rounded("open"),
                    bar.rounded("close"),
                    row=number,
                    # A row equal to its stored bar changes nothing and is not
                    # warned about; it is still its neighbours' neighbour.
                    changed=not row_result.is_skip(),
                ),
            )
        )

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        found: list[tuple[int, str]] = []
        series = {ticker: dict(bars) for ticker, bars in self._stored.items()}
        for ticker, bar in self._file_bars:
            series.setdefault(ticker, {})[bar.day] = bar
            closed = closed_day_warning(bar.day)
            if bar.changed and bar.row is not None and closed:
                found.append((bar.row, closed))
        for ticker, bars in series.items():
            found += jump_warnings(ticker, bars.values(), self._splits.get(ticker, ()))
        found.sort(key=lambda warning: warning[0])
        result.warnings = [f"{self._labels[row]}: {text}." for row, text in found]
        if result.warnings and not self._dry_run and not self.warnings_accepted:
            # Raised here, the import's transaction rolls back: nothing is stored.
            count = len(result.warnings)
            raise ValueError(
                f"The file's {count} warning{'s' if count > 1 else ''} "
                f"{'were' if count > 1 else 'was'} not confirmed, so nothing was "
                "stored. Upload it again, check the warnings in the preview and tick "
                "the box above Confirm import."
            )
        # A dry run rolls back whatever it wrote: no figures to keep.
        if not self._dry_run:
            symbol_figures_refresh(symbol_ids=self._written_symbols)


def _day_or_none(raw: object) -> date | None:
    try:
        return parse_day(raw)
    except ValueError:
        return None


class BacktestRunResource(resources.ModelResource):
    symbol = fields.Field(attribute="symbol__ticker", column_name="symbol")

    class Meta:
        model = BacktestRun
        # What defined the run, then what it gave.
        fields = (
            "id",
            *BACKTEST_INPUTS,
            "final_equity",
            "total_return_pct",
            "buy_hold_return_pct",
            "max_drawdown_pct",
            "trade_count",
            "created_at",
        )
        export_order = fields


class TradeResource(resources.ModelResource):
    symbol = fields.Field(attribute="run__symbol__ticker", column_name="symbol")

    class Meta:
        model = Trade
        fields = (
            "run",
            "symbol",
            "number",
            "entry_date",
            "entry_price",
            "exit_date",
            "exit_price",
            "shares",
            "pnl",
            "return_pct",
            "bars_held",
            "closed_at_end",
        )
        export_order = fields
