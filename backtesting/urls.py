from django.urls import re_path

from backtesting import compare_views, sweep_views, views

urlpatterns = [
    # Both parts are captured loosely so bad values reach the view and get a 400.
    # The sweep first: the loose backtest route must not see it.
    re_path(
        r"^backtest/(?P<symbol>[^/]*)/(?P<initial_investment>[^/]*)/sweep/?$",
        sweep_views.sweep,
        name="backtest-sweep",
    ),
    re_path(
        r"^backtest/(?P<symbol>[^/]*)/(?P<initial_investment>[^/]*)/?$",
        views.backtest,
        name="backtest",
    ),
    re_path(r"^compare/?$", compare_views.compare, name="compare"),
]
