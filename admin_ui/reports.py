"""Reports: the archive of generated PDFs, downloadable by staff only."""

from __future__ import annotations

from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from admin_ui.bases import RecordsOnly
from reporting.models import Report


@admin.register(Report)
class ReportAdmin(RecordsOnly, ModelAdmin):
    list_display = ["symbol", "created_at", "size", "download", "backtest", "forecast"]
    list_filter = ["symbol", ("created_at", RangeDateTimeFilter)]
    list_filter_submit = True
    search_fields = ["symbol__ticker", "symbol__name"]
    list_select_related = ["symbol", "backtest", "forecast"]
    ordering = ["-created_at"]
    fields = [
        "symbol",
        "created_at",
        "created_by",
        "size",
        "download",
        "backtest",
        "forecast",
    ]
    readonly_fields = fields

    @display(description="Size", ordering="size_bytes")
    def size(self, obj: Report) -> str:
        return f"{obj.size_bytes / 1024:,.0f} KB"

    @display(description="PDF")
    def download(self, obj: Report) -> str:
        url = reverse("admin:reporting_report_download", args=[obj.pk])
        return format_html(
            '<a class="text-primary-600 underline" href="{}">Download PDF</a>', url
        )

    def get_urls(self) -> list:
        download = self.admin_site.admin_view(self.download_view)
        return [
            path(
                "<int:report_id>/download/", download, name="reporting_report_download"
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, report_id: int) -> FileResponse:
        """Streams the archived PDF; media files are never served publicly."""
        report = Report.objects.filter(pk=report_id).first()
        if report is None or not self.has_view_permission(request, report):
            raise Http404("No such report.")
        return FileResponse(
            report.pdf.open("rb"),
            as_attachment=True,
            filename=report.pdf.name.rsplit("/", 1)[-1],
            content_type="application/pdf",
        )
