"""Which permission each kind of work needs (DESIGN §11), for actions and buttons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from core.models import Job

# The custom permission that lets a user queue a Job of each kind.
RUN_PERMISSIONS: dict[str, str] = {
    Job.Kind.FETCH: "core.run_fetch",
    Job.Kind.BACKTEST: "backtesting.run_backtest",
    # A sweep and a comparison are backtests too (DESIGN §11: "run backtest, sweep").
    Job.Kind.SWEEP: "backtesting.run_backtest",
    Job.Kind.COMPARE: "backtesting.run_backtest",
    Job.Kind.TRAIN: "ml.train_model",
    Job.Kind.PREDICT: "ml.run_forecast",
    Job.Kind.REPORT: "reporting.generate_report",
}


def may_run(user: AbstractBaseUser | AnonymousUser, kind: str) -> bool:
    """Whether `user` may queue (or retry) a Job of `kind`."""
    return user.has_perm(RUN_PERMISSIONS[kind])


def run_permission(kind: str) -> Callable[..., bool]:
    """A ModelAdmin `has_<name>_permission` method for actions that queue `kind`.

    unfold calls it with the request, and on a detail page with the object's id.
    """

    def has_permission(model_admin: Any, request: HttpRequest, obj: Any = None) -> bool:
        return may_run(request.user, kind)

    return has_permission
