"""Data quality in the admin: the symbol page's block shows each problem, the
Symbols list filters and badges them at a fixed query cost, the dashboard counts
them, and staff who may add corporate actions confirm a suspected split."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.data_quality import symbol_suspected_splits
from core.models import CorporateAction, PriceBar, Symbol
from core.services import symbol_figures_refresh
from core.sessions import last_completed_session, sessions_between
from tests.admin_ui.conftest import confirm_dialog, csrf_token
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db

SYMBOLS = reverse("admin:core_symbol_changelist")


def recent_sessions(count: int = 80) -> list[date]:
    """The last `count` NYSE sessions up to the last one completed now."""
    last = last_completed_session(timezone.now())
    return sessions_between(last - timedelta(days=count * 2), last)[-count:]


def store(
    symbol: Symbol,
    days: list[date],
    *,
    price: float = 200.0,
    source: str = PriceBar.Source.ALPHA_VANTAGE,
    halve_from: date | None = None,
) -> None:
    rows = []
    for day in days:
        value = Decimal(str(price / 2 if halve_from and day >= halve_from else price))
        rows.append(
            PriceBar(
                symbol=symbol,
                date=day,
                open=value,
                high=value,
                low=value,
                close=value,
                volume=500,
                source=source,
            )
        )
    PriceBar.objects.bulk_create(rows)
    symbol_figures_refresh(symbol_ids=[symbol.pk])


def clean_symbol(ticker: str = "FINE") -> Symbol:
    symbol = make_symbol(ticker, name=f"{ticker} Inc")
    store(symbol, recent_sessions())
    return symbol


def split_symbol(ticker: str = "HALF") -> tuple[Symbol, date]:
    """A 2-for-1 jump, no split recorded: the suspect's day is returned too."""
    days = recent_sessions()
    symbol = make_symbol(ticker, name=f"{ticker} Inc")
    store(symbol, days, halve_from=days[40])
    return symbol, days[40]


def troubled_symbol() -> Symbol:
    """Every problem at once: a missing session, a Saturday bar, a 2-for-1 jump, a
    last bar five sessions old, and bars from two sources."""
    days = recent_sessions()
    symbol = make_symbol("MESS", name="Mess Corp")
    kept = [day for i, day in enumerate(days[:-5]) if i != 10]
    store(symbol, kept[:30], source=PriceBar.Source.IMPORT)
    store(symbol, kept[30:], halve_from=kept[50])
    saturday = days[20] + timedelta(days=(5 - days[20].weekday()) % 7)
    store(symbol, [saturday], price=200.0 if saturday < kept[50] else 100.0)
    return symbol


def change_url(symbol: Symbol) -> str:
    return reverse("admin:core_symbol_change", args=[symbol.pk])


def confirm_url(symbol: Symbol) -> str:
    return reverse("admin:core_symbol_detail_confirm_split", args=[symbol.pk])


# --- the symbol's page ---------------------------------------------------------------


def test_the_symbol_page_shows_each_problem_in_words(superuser_client):
    symbol = troubled_symbol()

    page = superuser_client.get(change_url(symbol)).content.decode()

    for code in (
        "missing_sessions",
        "closed_day_bars",
        "suspected_splits",
        "stale",
        "mixed_sources",
    ):
        assert f'data-problem="{code}"' in page, code
    assert "1 NYSE session of " in page
    assert "falls on a day the exchange was closed" in page
    assert "like a 2-for-1 split" in page
    assert "5 sessions behind the last completed NYSE session" in page
    assert "File import: 30 bars" in page and "(mixed)" in page


def test_a_clean_symbol_page_says_ok(superuser_client):
    page = superuser_client.get(change_url(clean_symbol())).content.decode()

    assert "No problem found in the stored prices." in page
    assert "80 of 80 covered" in page
    assert "data-problem=" not in page


def test_a_symbol_without_bars_says_so(superuser_client):
    page = superuser_client.get(change_url(make_symbol("BARE"))).content.decode()

    assert 'data-problem="no_bars"' in page


# --- the Symbols list: badge, filter, query cost -------------------------------------


def test_the_list_badges_each_symbol_ok_or_with_its_problems(superuser_client):
    clean_symbol()
    split_symbol()
    make_symbol("BARE")
    troubled_symbol()

    page = superuser_client.get(SYMBOLS).content.decode()

    assert _badges(page, "FINE") == [("OK", "green")]
    assert _badges(page, "HALF") == [("suspected split", "red")]
    assert _badges(page, "BARE") == [("no bars", "red")]
    assert _badges(page, "MESS") == [
        (label, "red")
        for label in (
            "missing sessions",
            "closed-day bars",
            "suspected split",
            "stale",
            "mixed sources",
        )
    ]


def _badges(page: str, ticker: str) -> list[tuple[str, str]]:
    """(text, colour) of each label in the Data quality cell of `ticker`'s row."""
    at = page.index(f">{ticker}</a>")
    row = page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]
    cell = row[row.index('class="field-data_quality_badge') :]
    cell = cell[: cell.index("</td>")]
    return [
        (text.strip(), colour)
        for colour, text in re.findall(
            r'<span class="inline-block[^"]*bg-(\w+)-100[^"]*"[^>]*>([^<]*)</span>',
            cell,
        )
    ]


@pytest.mark.parametrize(
    ("value", "shown", "hidden"),
    [("problems", {"HALF", "BARE"}, {"FINE"}), ("ok", {"FINE"}, {"HALF", "BARE"})],
)
def test_the_data_quality_filter_keeps_the_matching_symbols(
    superuser_client, value, shown, hidden
):
    clean_symbol()
    split_symbol()
    make_symbol("BARE")

    page = superuser_client.get(f"{SYMBOLS}?data_quality={value}").content.decode()

    for ticker in shown:
        assert f">{ticker}</a>" in page, ticker
    for ticker in hidden:
        assert f">{ticker}</a>" not in page, ticker


def test_the_list_costs_the_same_queries_for_two_symbols_or_ten(superuser_client):
    clean_symbol("A0")
    split_symbol("B0")
    superuser_client.get(SYMBOLS)  # sessions, permissions and the like, cached
    with CaptureQueriesContext(connection) as two:
        superuser_client.get(SYMBOLS)
    for i in range(1, 5):
        clean_symbol(f"A{i}")
        split_symbol(f"B{i}")
    with CaptureQueriesContext(connection) as ten:
        page = superuser_client.get(SYMBOLS)

    assert page.content.decode().count("suspected split") == 5
    assert len(ten) == len(two)


def test_the_filter_costs_a_fixed_number_of_queries_too(superuser_client):
    clean_symbol("A0")
    split_symbol("B0")
    filtered = f"{SYMBOLS}?data_quality=problems"
    superuser_client.get(filtered)
    with CaptureQueriesContext(connection) as one:
        superuser_client.get(filtered)
    for i in range(1, 6):
        clean_symbol(f"A{i}")
        split_symbol(f"B{i}")
    with CaptureQueriesContext(connection) as six:
        page = superuser_client.get(filtered).content.decode()

    assert page.count("suspected split") == 6 and ">A3</a>" not in page
    assert len(six) == len(one)


# --- the dashboard ------------------------------------------------------------------


def test_the_dashboard_counts_and_links_the_symbols_with_problems(superuser_client):
    clean_symbol()
    split_symbol()
    make_symbol("BARE")

    page = superuser_client.get(reverse("admin:index")).content.decode()

    assert "<strong>2 of 3</strong> symbols with problems" in page
    assert ">HALF</a>" in page and "suspected split" in page
    assert ">BARE</a>" in page and "no bars" in page
    assert f"{SYMBOLS}?data_quality=problems" in page


def test_the_dashboard_says_when_no_symbol_has_a_problem(superuser_client):
    clean_symbol()

    page = superuser_client.get(reverse("admin:index")).content.decode()

    assert "No problem found in the stored prices of 1 symbol." in page


# --- confirming a suspected split ---------------------------------------------------


def test_an_analyst_confirms_a_suspect_which_is_then_recorded_and_gone(
    analyst_client,
):
    symbol, day = split_symbol()
    page = analyst_client.get(change_url(symbol)).content.decode()
    assert confirm_url(symbol) in page

    dialog, done = confirm_dialog(
        analyst_client, confirm_url(symbol), {"day": day.isoformat()}
    )

    assert "like a 2-for-1 split" in dialog.content.decode()
    assert done.headers["HX-Redirect"] == change_url(symbol)
    action = CorporateAction.objects.get(symbol=symbol)
    assert (action.kind, action.date, action.split_factor, action.source) == (
        "split",
        day,
        Decimal(2),
        "confirmed",
    )
    assert symbol_suspected_splits(symbol) == []
    after = analyst_client.get(change_url(symbol)).content.decode()
    assert f"Recorded the 2-for-1 split of HALF on {day.isoformat()}" in after
    assert "No problem found in the stored prices." in after
    assert confirm_url(symbol) not in after  # nothing left to confirm


def test_the_dialog_lists_every_suspect_and_preselects_the_day_asked_for(
    analyst_client,
):
    days = recent_sessions()
    symbol = make_symbol("TWICE")
    store(symbol, days[:30], price=800.0)
    store(symbol, days[30:60], price=400.0)
    store(symbol, days[60:], price=100.0)

    page = analyst_client.get(
        f"{confirm_url(symbol)}?day={days[60].isoformat()}"
    ).content.decode()

    assert "like a 2-for-1 split" in page and "like a 4-for-1 split" in page
    assert _checked(page, days[60].isoformat())
    assert not _checked(page, days[30].isoformat())


def _checked(page: str, value: str) -> bool:
    """Whether the radio input of `value` carries the checked attribute."""
    at = page.index(f'value="{value}"')
    tag = page[page.rindex("<input", 0, at) : page.index(">", at) + 1]
    return re.search(r"\schecked[\s>]", tag) is not None


def test_a_day_confirmed_meanwhile_is_refused_in_the_dialog(analyst_client):
    symbol, day = split_symbol()
    dialog = analyst_client.get(confirm_url(symbol))
    CorporateAction.objects.create(
        symbol=symbol,
        kind="split",
        date=day,
        split_factor=Decimal(2),
        source=CorporateAction.Source.IMPORT,
    )

    answer = analyst_client.post(
        confirm_url(symbol),
        {
            "csrfmiddlewaretoken": csrf_token(dialog),
            "_form_submitted": "True",
            "day": day.isoformat(),
        },
        HTTP_HX_REQUEST="true",
    )

    assert answer.status_code == 200
    assert "no suspected split any more" in answer.content.decode()
    assert CorporateAction.objects.get(symbol=symbol).source == "import"


def test_a_symbol_without_suspects_has_no_confirm_button(analyst_client):
    symbol = clean_symbol()

    assert (
        confirm_url(symbol)
        not in analyst_client.get(change_url(symbol)).content.decode()
    )


def test_a_viewer_sees_no_confirm_button_and_is_refused(viewer_client):
    symbol, day = split_symbol()
    page = viewer_client.get(change_url(symbol))

    assert "like a 2-for-1 split" in page.content.decode()  # they do see the suspect
    assert confirm_url(symbol) not in page.content.decode()
    assert viewer_client.get(confirm_url(symbol)).status_code == 403
    posted = viewer_client.post(
        confirm_url(symbol),
        {
            "csrfmiddlewaretoken": csrf_token(page),
            "_form_submitted": "True",
            "day": day.isoformat(),
        },
    )
    assert posted.status_code == 403
    assert not CorporateAction.objects.exists()


def test_the_confirmation_needs_the_csrf_token(analyst_client):
    symbol, day = split_symbol()

    posted = analyst_client.post(
        confirm_url(symbol), {"_form_submitted": "True", "day": day.isoformat()}
    )

    assert posted.status_code == 403
    assert not CorporateAction.objects.exists()
