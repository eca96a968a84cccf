"""The only writers of core's models: jobs and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.models import ApiToken, Job, Symbol

TOKEN_PREFIX = "sdk_"  # noqa: S105 - a public marker, not a secret


# --- Jobs --------------------------------------------------------------------------


def job_create(
    *,
    kind: str,
    ticker: str,
    symbol: Symbol | None = None,
    parameters: dict[str, Any] | None = None,
    created_by: AbstractBaseUser | None = None,
) -> Job:
    return Job.objects.create(
        kind=kind,
        ticker=ticker,
        symbol=symbol,
        parameters=parameters or {},
        created_by=created_by if created_by and created_by.is_authenticated else None,
    )


def job_set_task_id(*, job_id: int, task_id: str) -> None:
    Job.objects.filter(pk=job_id).update(task_id=task_id)


@transaction.atomic
def job_start(*, job_id: int) -> Job | None:
    """Mark a job running and count the attempt; None if it is already final.

    A re-delivered task calls this again: a final job is left alone so the work is
    not done twice.
    """
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.is_final:
        return None
    job.status = Job.Status.RUNNING
    job.attempts = F("attempts") + 1
    job.started_at = timezone.now()
    job.save(update_fields=["status", "attempts", "started_at"])
    job.refresh_from_db()
    return job


def job_succeed(
    *,
    job: Job,
    result: dict[str, Any] | None = None,
    produced: models.Model | None = None,
    symbol: Symbol | None = None,
) -> Job:
    job.status = Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.result = result or {}
    job.error = ""
    job.error_code = ""
    if symbol is not None:
        job.symbol = symbol
    if produced is not None:
        job.result_type = ContentType.objects.get_for_model(produced)
        job.result_id = produced.pk
    job.save()
    return job


def job_fail(*, job: Job, message: str, code: str = "error") -> Job:
    job.status = Job.Status.FAILED
    job.finished_at = timezone.now()
    job.error = message
    job.error_code = code
    job.save(update_fields=["status", "finished_at", "error", "error_code"])
    return job


# --- API tokens --------------------------------------------------------------------


def _hash_key(raw_key: str) -> str:
    # A random 256-bit key needs no slow hash: guessing it is hopeless anyway.
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw_key: str


def api_token_create(*, user: AbstractBaseUser, name: str) -> NewToken:
    """Create a token; the raw key is returned here once and never stored."""
    raw_key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw_key[:12], key_hash=_hash_key(raw_key)
    )
    return NewToken(token=token, raw_key=raw_key)


def api_token_authenticate(*, raw_key: str) -> AbstractBaseUser | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash_key(raw_key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- Symbols -----------------------------------------------------------------------


def symbol_save(*, symbol: Symbol) -> Symbol:
    """Save a symbol edited by staff, with its ticker normalised and checked."""
    symbol.ticker = symbol.ticker.strip().upper()
    symbol.full_clean()
    symbol.save()
    return symbol


def jobs_sweep_stuck(*, running_for: timedelta, queued_for: timedelta) -> int:
    """Fail Jobs a dead worker left behind, so every Job ends in a final state.

    A Job still running after `running_for` outlived every task timeout and retry;
    one still queued after `queued_for` was never picked up. Returns how many.
    """
    now = timezone.now()
    stuck = Job.objects.filter(
        Q(status=Job.Status.RUNNING, started_at__lt=now - running_for)
        | Q(status=Job.Status.QUEUED, created_at__lt=now - queued_for)
    )
    return stuck.update(
        status=Job.Status.FAILED,
        finished_at=now,
        error_code="stuck",
        error=(
            "No result: the worker stopped before finishing, or no worker picked the "
            "job up. Retry it from the Jobs page."
        ),
    )
