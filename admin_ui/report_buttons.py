"""The Generate report button of a backtest's and a sweep's admin page.

Add the mixin to the ModelAdmin's bases and "generate_report_detail" to its
actions_detail: the button opens unfold's dialog (a GET, which queues nothing), its
form posts back with the CSRF token, and only that POST queues the report Job of that
run or sweep, then goes to the Job's page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from unfold.admin import ModelAdmin
from unfold.decorators import action

from admin_ui.bases import dialog_done
from admin_ui.forms import ObjectDialogForm
from admin_ui.permissions import run_permission
from backtesting.models import BacktestRun, Sweep
from core.models import Job
from core.services import Requester, job_enqueue


def report_job_for(work: BacktestRun | Sweep, user: Requester = None) -> Job:
    """Queue the report of this backtest or sweep: {"backtest": id} or {"sweep": id},
    on the series it ran on (reporting.tasks)."""
    key = "sweep" if isinstance(work, Sweep) else "backtest"
    return job_enqueue(
        kind=Job.Kind.REPORT,
        symbol=work.symbol,
        parameters={key: work.pk},
        user=user,
    )


class BacktestReportDialogForm(ObjectDialogForm):
    model = BacktestRun


class SweepReportDialogForm(ObjectDialogForm):
    model = Sweep


def _report_button(
    form_class: type[ObjectDialogForm], what: str
) -> Callable[..., HttpResponse]:
    @action(
        description="Generate report",
        url_path="report",
        icon="picture_as_pdf",
        permissions=["generate_report"],
        dialog={
            "title": "Generate a report?",
            "description": (
                f"One background job builds the PDF of {what} with the symbol's "
                "forecast and archives it under Reports; you go to the job's page."
            ),
            "form_class": form_class,
            "form_submit_text": "Queue report",
        },
    )
    def generate_report_detail(
        model_admin: ModelAdmin, request: HttpRequest, form: Any, object_id: str
    ) -> HttpResponse:
        job = report_job_for(form.object, request.user)
        model_admin.message_user(
            request,
            f"Queued report job #{job.pk} for {form.object}; the PDF will be under "
            "Reports when it is done.",
            messages.SUCCESS,
        )
        return dialog_done(request, reverse("admin:core_job_change", args=[job.pk]))

    return generate_report_detail


class BacktestReportButton:
    """Generate report on a BacktestRun's page: the report of that run."""

    has_generate_report_permission = run_permission(Job.Kind.REPORT)
    generate_report_detail = _report_button(BacktestReportDialogForm, "this backtest")


class SweepReportButton:
    """Generate report on a Sweep's page: the sweep, and its best pair's backtest."""

    has_generate_report_permission = run_permission(Job.Kind.REPORT)
    generate_report_detail = _report_button(
        SweepReportDialogForm,
        "this sweep (heatmap, out-of-sample verdict) and its best pair's backtest",
    )
