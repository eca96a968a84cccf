"""Checks every admin view makes first: junk in a request is a 400 page, not a 500.

Django passes query-string values straight to the ORM, and PostgreSQL refuses a NUL
character in text ("PostgreSQL text fields cannot contain NUL (0x00) bytes") only when
the query runs, past the admin's own IncorrectLookupParameters handling; a bulk action
filters by the posted ids without checking them either. The site's `admin_view` wraps
every page it serves (model pages, unfold's action URLs, the index, autocomplete), so
the checks sit there once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import ModelAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse

NUL = "\x00"


def bad_request(
    request: HttpRequest, message: str, site: AdminSite | None = None
) -> TemplateResponse:
    """The admin's 400 page: what was wrong, and a way back."""
    from django.contrib import admin

    site = site or admin.site
    context = {
        **site.each_context(request),
        "title": "The request could not be used",
        "message": message,
    }
    return TemplateResponse(request, "admin_ui/bad_request.html", context, status=400)


def _holds_nul(data: QueryDict) -> str | None:
    """The first parameter whose name or value holds a NUL character, or None."""
    for key, values in data.lists():
        if NUL in key or any(NUL in value for value in values):
            return key.replace(NUL, "\\0")
    return None


def _junk(request: HttpRequest, changelist_of: ModelAdmin | None) -> str | None:
    """Why the request cannot be served, or None when it may go on to the view."""
    for where, data in (("address", request.GET), ("form", request.POST)):
        if (key := _holds_nul(data)) is not None:
            return (
                f"The {where} holds a NUL character (in “{key}”), which no field "
                "or search can hold."
            )
    if changelist_of is not None and request.method == "POST":
        meta = changelist_of.model._meta
        for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
            try:
                meta.pk.to_python(value)  # type: ignore[union-attr]
            except ValidationError:
                return (
                    f"“{value[:40]}” is not the id of a {meta.verbose_name}: "
                    "select the rows on the list."
                )
    return None


def _refuse_unpermitted_action(request: HttpRequest, model_admin: ModelAdmin) -> None:
    """A posted action the user may not run is a 403, not "No action selected".

    Django leaves such an action out of the list and answers the post as if nothing
    had been chosen; nothing runs either way, but the refusal should say so.
    """
    if request.method != "POST":
        return
    permitted = model_admin.get_actions(request)
    for name in request.POST.getlist("action"):
        if name and name not in permitted and model_admin.get_action(name):
            raise PermissionDenied(f"You may not run “{name}” here.")


def refuse_junk(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap an admin view in the checks above."""
    # Model pages are the ModelAdmin's bound methods; the site's own pages are not.
    # Bulk actions post to the changelist, so the action checks need only that page.
    model_admin = getattr(view, "__self__", None)
    changelist_of = (
        model_admin
        if isinstance(model_admin, ModelAdmin)
        and getattr(view, "__name__", "") == "changelist_view"
        else None
    )
    site = getattr(model_admin, "admin_site", None)

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        problem = _junk(request, changelist_of)
        if problem is not None:
            return bad_request(request, problem, site)
        if changelist_of is not None:
            _refuse_unpermitted_action(request, changelist_of)
        return view(request, *args, **kwargs)

    return checked


def guard(site: AdminSite) -> None:
    """Put every view `site` serves behind refuse_junk (after its login check)."""
    site_admin_view = site.admin_view

    def admin_view(view: Callable[..., Any], cacheable: bool = False) -> Any:
        return site_admin_view(refuse_junk(view), cacheable)

    # unfold builds the site instance (unfold.apps); its class is not ours to swap.
    site.admin_view = admin_view  # type: ignore[method-assign]
