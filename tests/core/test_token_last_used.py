"""A token's "last used" is kept to the minute: one write a minute, not one a request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import ApiToken
from core.services import LAST_USED_PRECISION, api_token_authenticate, api_token_create

pytestmark = pytest.mark.django_db


def _updates(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]


def test_last_used_is_written_once_a_minute(staff_user):
    new = api_token_create(user=staff_user, name="busy")
    assert api_token_authenticate(raw_key=new.raw_key) == staff_user
    first = ApiToken.objects.get(pk=new.token.pk).last_used_at
    assert first is not None

    with CaptureQueriesContext(connection) as again:
        assert api_token_authenticate(raw_key=new.raw_key) == staff_user
    assert _updates(again) == []
    assert ApiToken.objects.get(pk=new.token.pk).last_used_at == first

    earlier = first - LAST_USED_PRECISION - timedelta(seconds=1)
    ApiToken.objects.filter(pk=new.token.pk).update(last_used_at=earlier)
    with CaptureQueriesContext(connection) as later:
        api_token_authenticate(raw_key=new.raw_key)
    assert len(_updates(later)) == 1
    assert ApiToken.objects.get(pk=new.token.pk).last_used_at > first
