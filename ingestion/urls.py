from django.urls import re_path

from ingestion import views

urlpatterns = [
    # Anything up to the last slash is the symbol, so '../x' or '' reach the view
    # and get a 400 that explains the rule instead of a bare 404.
    re_path(r"^fetch/(?P<symbol>.*?)/?$", views.fetch, name="fetch"),
]
