"""Reports in the admin: the Generate report action, the archive, staff-only downloads."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.models import Job
from reporting.models import Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(admin_client, acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:core_symbol_changelist"),
            {"action": "generate_report", "_selected_action": [acme.pk]},
            follow=True,
        )
    assert "Queued 1 report job(s)" in response.content.decode()
    return Report.objects.get()


def test_generate_report_stores_a_pdf_and_its_json(archived, acme):
    job = Job.objects.get(kind=Job.Kind.REPORT)
    assert job.status == Job.Status.SUCCEEDED and job.result_object == archived
    assert archived.pdf.read(4) == b"%PDF"
    assert archived.snapshot["symbol"] == "ACME"
    # No model was trained, so the forecast section explains instead of failing.
    assert archived.snapshot["forecast"]["available"] is False


def test_the_reports_list_and_the_symbol_page_link_the_pdf(
    admin_client, archived, acme
):
    listing = admin_client.get(
        reverse("admin:reporting_report_changelist")
    ).content.decode()
    download = reverse("admin:reporting_report_download", args=[archived.pk])
    assert "ACME" in listing and download in listing and "KB" in listing
    symbol_page = admin_client.get(reverse("admin:core_symbol_change", args=[acme.pk]))
    assert download in symbol_page.content.decode()


def test_staff_download_the_pdf_and_nobody_else_does(
    admin_client, archived, django_user_model
):
    url = reverse("admin:reporting_report_download", args=[archived.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "ACME-report-" in response["Content-Disposition"]
    assert Client().get(url).status_code == 302  # to the login page
    visitor = django_user_model.objects.create_user(username="v", password="x-pass-123")
    client = Client()
    client.force_login(visitor)
    assert client.get(url).status_code == 302
