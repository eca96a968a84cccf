"""Access: users, groups and API tokens (the raw key is shown once, on creation).

Only a superuser sees and revokes everyone's tokens; an Analyst keeps their own (the
add form makes a token for the user filling it in), a Viewer none (DESIGN §11).
"""

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
    list_select_related = ["user"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        tokens = super().get_queryset(request)
        if request.user.is_superuser:
            return tokens
        return tokens.filter(user_id=request.user.pk)

    @display(description="State", label={"active": "success", "revoked": "danger"})
    def state(self, obj: ApiToken) -> tuple[str, str]:
        return ("revoked", "Revoked") if obj.is_revoked else ("active", "Active")

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        # A new token needs only its owner and purpose; the rest exists once saved.
        # Staff other than superusers make tokens for themselves only.
        if obj is None:
            return ["user", "name"] if request.user.is_superuser else ["name"]
        return self.fields

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
        owner = obj.user if request.user.is_superuser else request.user
        new = api_token_create(user=owner, name=obj.name)
        obj.pk, obj.user = new.token.pk, owner
        self.message_user(
            request,
            f"New token for {owner}: {new.raw_key} — copy it now, it is not shown again.",
            messages.WARNING,
        )

    def has_revoke_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoking changes the token; the queryset already holds only the user's own
        # tokens unless they are a superuser.
        return self.has_change_permission(request)

    @action(description="Revoke selected tokens", icon="block", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset)
        if not request.user.is_superuser:
            tokens = [token for token in tokens if token.user_id == request.user.pk]
        for token in tokens:
            api_token_revoke(token=token)
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)
