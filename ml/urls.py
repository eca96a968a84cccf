from django.urls import re_path

from ml import views

urlpatterns = [
    re_path(r"^predict/(?P<symbol>[^/]*)/?$", views.predict, name="predict"),
]
