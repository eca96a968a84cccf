"""Corporate actions in the admin: the list and its filters, read-only for Viewers,
and the CSV/XLSX import (backfill) whose errors name the row and the field."""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core.models import CorporateAction
from tests.admin_ui.conftest import csrf_token
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:core_corporateaction_changelist")
IMPORT_URL = reverse("admin:core_corporateaction_import")
PROCESS_URL = reverse("admin:core_corporateaction_process_import")

GOOD = (
    "symbol,kind,date,factor,amount\r\n"
    "acme,split,2024-03-01,4:1,\r\n"
    "ACME,dividend,2024-05-10,,0.24\r\n"
    "ACME,Split,2020-08-31,0.1,\r\n"
)


def upload(client, content: bytes, name: str = "actions.csv", file_format: int = 0):
    page = client.get(IMPORT_URL)
    return client.post(
        IMPORT_URL,
        {
            "csrfmiddlewaretoken": csrf_token(page),
            "resource": 0,
            "format": file_format,
            "import_file": SimpleUploadedFile(name, content),
        },
    )


def confirm(client, preview):
    """Post the preview page's confirm form back, as the Confirm button does."""
    page = preview.content.decode()
    fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page))
    wanted = {
        "import_file_name",
        "original_file_name",
        "format",
        "resource",
        "csrfmiddlewaretoken",
    }
    return client.post(
        PROCESS_URL, {k: v for k, v in fields.items() if k in wanted}, follow=True
    )


def page_text(response) -> str:
    return html.unescape(html.unescape(response.content.decode()))


def stored() -> list[tuple]:
    return list(
        CorporateAction.objects.order_by("date").values_list(
            "symbol__ticker",
            "kind",
            "date",
            "split_factor",
            "dividend_amount",
            "source",
        )
    )


@pytest.fixture
def acme_actions(db):
    acme = make_symbol("ACME")
    other = make_symbol("OTHER")
    CorporateAction.objects.create(
        symbol=acme,
        kind="split",
        date=date(2024, 3, 1),
        split_factor=Decimal(4),
        source="alpha_vantage",
    )
    CorporateAction.objects.create(
        symbol=other,
        kind="dividend",
        date=date(2024, 5, 10),
        dividend_amount=Decimal("0.24"),
        source="import",
    )
    return acme, other


def test_the_list_shows_actions_with_their_values(superuser_client, acme_actions):
    page = superuser_client.get(LIST_URL)

    assert page.status_code == 200
    text = page_text(page)
    assert "4 new shares per old" in text
    assert "0.24 cash per share" in text
    assert 'href="/admin/core/corporateaction/"' in text  # the sidebar entry


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("kind__exact=split", "4 new shares per old", "0.24 cash per share"),
        ("source__exact=import", "0.24 cash per share", "4 new shares per old"),
    ],
)
def test_the_filters_narrow_the_list(
    superuser_client, acme_actions, query, shown, hidden
):
    text = page_text(superuser_client.get(f"{LIST_URL}?{query}"))

    assert shown in text
    assert hidden not in text


def test_the_symbol_filter_narrows_the_list(superuser_client, acme_actions):
    acme, _ = acme_actions

    text = page_text(superuser_client.get(f"{LIST_URL}?symbol__id__exact={acme.pk}"))

    assert "4 new shares per old" in text
    assert "0.24 cash per share" not in text


def test_a_viewer_reads_but_cannot_import_add_or_change(viewer_client, acme_actions):
    acme, _ = acme_actions
    row = CorporateAction.objects.get(symbol=acme)

    page = viewer_client.get(LIST_URL)
    assert page.status_code == 200
    assert IMPORT_URL not in page.content.decode()
    assert viewer_client.get(IMPORT_URL).status_code == 403
    refused = viewer_client.post(
        IMPORT_URL,
        {
            "csrfmiddlewaretoken": csrf_token(page),
            "resource": 0,
            "format": 0,
            "import_file": SimpleUploadedFile("a.csv", GOOD.encode()),
        },
    )
    assert refused.status_code == 403
    assert (
        viewer_client.get(reverse("admin:core_corporateaction_add")).status_code == 403
    )
    change = viewer_client.get(
        reverse("admin:core_corporateaction_change", args=[row.pk])
    )
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert CorporateAction.objects.count() == 2


def test_an_analyst_imports_a_csv_after_the_preview(analyst_client):
    make_symbol("ACME")
    assert IMPORT_URL in analyst_client.get(LIST_URL).content.decode()

    preview = upload(analyst_client, GOOD.encode())

    assert preview.status_code == 200
    assert "Confirm import" in preview.content.decode()
    assert CorporateAction.objects.count() == 0  # a dry run writes nothing
    done = confirm(analyst_client, preview)
    assert done.status_code == 200
    assert stored() == [
        ("ACME", "split", date(2020, 8, 31), Decimal("0.1"), None, "import"),
        ("ACME", "split", date(2024, 3, 1), Decimal(4), None, "import"),
        ("ACME", "dividend", date(2024, 5, 10), None, Decimal("0.24"), "import"),
    ]


def test_importing_the_same_file_again_changes_nothing(analyst_client):
    make_symbol("ACME")
    confirm(analyst_client, upload(analyst_client, GOOD.encode()))
    before = list(CorporateAction.objects.order_by("pk").values())

    preview = upload(analyst_client, GOOD.encode())
    confirm(analyst_client, preview)

    assert list(CorporateAction.objects.order_by("pk").values()) == before


def test_an_import_corrects_a_fetched_value_and_takes_it_over(analyst_client):
    acme = make_symbol("ACME")
    CorporateAction.objects.create(
        symbol=acme,
        kind="split",
        date=date(2024, 3, 1),
        split_factor=Decimal("3.98"),
        source="alpha_vantage",
    )

    confirm(
        analyst_client,
        upload(
            analyst_client,
            b"symbol,kind,date,factor,amount\r\nACME,split,2024-03-01,4,\r\n",
        ),
    )

    row = CorporateAction.objects.get()
    assert (row.split_factor, row.source) == (Decimal(4), "import")


def test_every_bad_row_is_named_with_its_field_in_one_round(analyst_client):
    make_symbol("ACME")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    rows = (
        "symbol,kind,date,factor,amount\r\n"
        "ACME,split,2024-03-01,4,\r\n"
        "NOPE,split,2024-03-01,4,\r\n"
        "ACME,split,2024-13-40,4,\r\n"
        "ACME,merger,2024-03-01,4,\r\n"
        "ACME,split,2024-03-02,four,\r\n"
        "ACME,split,2024-03-03,4,1.5\r\n"
        "ACME,dividend,2024-03-04,,\r\n"
        "ACME,dividend,2024-03-05,,-0.2\r\n"
        f"ACME,split,{tomorrow},2,\r\n"
        "bad ticker!,dividend,2024-03-06,,0.1\r\n"
        ",,,,\r\n"
    )

    preview = upload(analyst_client, rows.encode())

    text = page_text(preview)
    assert "Confirm import" not in text
    for message in (
        "Row 2, symbol: there is no symbol NOPE; add it under Symbols or fetch its "
        "prices first.",
        "Row 3, date: the date '2024-13-40' is not a valid YYYY-MM-DD date.",
        "Row 4, kind: the kind is 'merger'; it must be split or dividend.",
        "Row 5, factor: the factor 'four' is not a number (a factor: new shares per "
        "old share, e.g. 4 or 4:1 for a 4-for-1 split, 0.1 or 1:10 for a 1-for-10).",
        "Row 6, amount: a split has a factor, not an amount; leave amount empty.",
        "Row 7, amount: a dividend needs an amount: the cash paid per share, e.g. 0.24.",
        "Row 8, amount: the amount '-0.2' is not above zero.",
        f"Row 9, date: the date {tomorrow} is in the future; record an action once it "
        "has taken effect.",
        "Row 10, symbol: 'bad ticker!' is not a valid symbol",
    ):
        assert message in text, message
    # The good first row and the trailing empty line have nothing to say.
    assert "Row 1," not in text
    assert "Row 11," not in text
    assert CorporateAction.objects.count() == 0


def test_an_xlsx_file_with_date_cells_imports_too(analyst_client):
    make_symbol("ACME")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["symbol", "kind", "date", "factor", "amount"])
    sheet.append(["ACME", "split", datetime(2024, 3, 1), 4, None])
    sheet.append(["ACME", "dividend", "2024-05-10", None, 0.24])
    buffer = io.BytesIO()
    book.save(buffer)

    preview = upload(analyst_client, buffer.getvalue(), "actions.xlsx", 1)

    assert "Confirm import" in preview.content.decode(), page_text(preview)[-3000:]
    confirm(analyst_client, preview)
    assert [row[1:5] for row in stored()] == [
        ("split", date(2024, 3, 1), Decimal(4), None),
        ("dividend", date(2024, 5, 10), None, Decimal("0.24")),
    ]


def test_the_export_writes_the_import_columns(superuser_client, acme_actions):
    page = superuser_client.get(reverse("admin:core_corporateaction_export"))
    response = superuser_client.post(
        reverse("admin:core_corporateaction_export"),
        {
            "csrfmiddlewaretoken": csrf_token(page),
            "format": 0,
            "resource": 0,
            **{
                f"corporateactionresource_{name}": "on"
                for name in ("symbol", "kind", "date", "factor", "amount", "source")
            },
        },
    )

    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0] == "symbol,kind,date,factor,amount,source"
    assert "ACME,split,2024-03-01,4.000000,,alpha_vantage" in lines
