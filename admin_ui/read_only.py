"""Admin pages for records that services and Jobs write: staff look, never type in."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class RecordsOnly:
    """No add or change forms; the rows come from fetches, runs and imports."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class KeptRecords(RecordsOnly):
    """Records other rows stand on (a model's forecasts) or that document what was said."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
