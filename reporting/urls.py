from django.urls import re_path

from reporting import views

urlpatterns = [
    re_path(r"^report/(?P<symbol>[^/]*)/?$", views.report, name="report"),
]
