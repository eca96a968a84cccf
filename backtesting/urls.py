from django.urls import re_path

from backtesting import views

urlpatterns = [
    # Both parts are captured loosely so bad values reach the view and get a 400.
    re_path(
        r"^backtest/(?P<symbol>[^/]*)/(?P<initial_investment>[^/]*)/?$",
        views.backtest,
        name="backtest",
    ),
]
