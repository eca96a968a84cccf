"""URL map: the admin, the four endpoints of the original brief, jobs and health."""

from django.contrib import admin
from django.urls import include, path

from core import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("", include("ingestion.urls")),
    path("", include("backtesting.urls")),
    path("", include("ml.urls")),
    path("", include("reporting.urls")),
]

handler400 = "core.views.handler_400"
handler403 = "core.views.handler_403"
handler404 = "core.views.handler_404"
handler500 = "core.views.handler_500"
