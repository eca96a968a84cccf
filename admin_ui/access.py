"""Access: users, groups and API tokens (the raw key is shown once, on creation)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from core.models import ApiToken
from core.services import api_token_create, api_token_revoke

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "state"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    @display(description="State", label={"active": "success", "revoked": "danger"})
    def state(self, obj: ApiToken) -> tuple[str, str]:
        return ("revoked", "Revoked") if obj.is_revoked else ("active", "Active")

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        # A new token needs only its owner and purpose; the rest exists once saved.
        return ["user", "name"] if obj is None else self.fields

    def get_readonly_fields(
        self, request: HttpRequest, obj: ApiToken | None = None
    ) -> Any:
        # A token's owner and name are fixed once the key has been handed out.
        if obj is not None:
            return [*self.readonly_fields, "user", "name"]
        return self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: Any, change: bool
    ) -> None:
        if change:
            return
        new = api_token_create(user=obj.user, name=obj.name)
        obj.pk = new.token.pk
        self.message_user(
            request,
            f"New token for {obj.user}: {new.raw_key} — copy it now, it is not shown again.",
            messages.WARNING,
        )

    @action(description="Revoke selected tokens", icon="block")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(
            request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS
        )
