"""The Viewer and Analyst groups made by admin_ui's migration (DESIGN §11)."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS

roles = import_module("admin_ui.migrations.0003_research_roles")

VIEWER = {
    "backtesting.view_backtestrun",
    "backtesting.view_comparison",
    "backtesting.view_sweep",
    "backtesting.view_trade",
    "core.view_apitoken",
    "core.view_corporateaction",
    "core.view_job",
    "core.view_pricebar",
    "core.view_symbol",
    "django_q.view_failure",
    "django_q.view_ormq",
    "django_q.view_schedule",
    "django_q.view_success",
    "django_q.view_task",
    "ingestion.view_provideraccount",
    "ingestion.view_providerdailyusage",
    "ml.view_prediction",
    "ml.view_predictionrun",
    "ml.view_trainedmodel",
    "reporting.view_report",
}
ANALYST = VIEWER | {
    "core.run_fetch",
    "backtesting.run_backtest",
    "ml.train_model",
    "ml.run_forecast",
    "reporting.generate_report",
    "core.add_apitoken",
    "core.change_apitoken",
    "core.add_corporateaction",
}


def group_permissions(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


@pytest.mark.django_db
def test_the_migration_gives_each_group_exactly_its_permissions():
    assert group_permissions("Viewer") == VIEWER
    assert group_permissions("Analyst") == ANALYST


@pytest.mark.django_db
def test_viewer_may_view_every_model_of_the_research_apps_and_the_queue():
    """A model added later needs a roles migration in admin_ui; this says so."""
    every_view = {
        f"{model._meta.app_label}.{get_permission_codename('view', model._meta)}"
        for label in roles.VIEW_APPS
        for model in apps.get_app_config(label).get_models()
    }
    assert every_view <= group_permissions("Viewer")


@pytest.mark.django_db
def test_neither_group_may_manage_users_groups_or_delete_anything():
    granted = Permission.objects.filter(group__name__in=roles.ROLE_NAMES)
    assert not granted.filter(content_type__app_label="auth").exists()
    assert not granted.filter(codename__startswith="delete_").exists()


@pytest.mark.django_db
def test_running_it_again_sets_edited_groups_back_and_keeps_members(
    django_user_model,
):
    viewer = Group.objects.get(name="Viewer")
    viewer.permissions.add(Permission.objects.get(codename="run_fetch"))
    viewer.permissions.remove(Permission.objects.get(codename="view_job"))
    member = django_user_model.objects.create_user(username="reader", is_staff=True)
    member.groups.add(viewer)

    roles.roles_sync(apps, using=DEFAULT_DB_ALIAS)
    roles.roles_sync(apps, using=DEFAULT_DB_ALIAS)

    assert group_permissions("Viewer") == VIEWER
    assert group_permissions("Analyst") == ANALYST
    assert Group.objects.filter(name__in=roles.ROLE_NAMES).count() == 2
    assert list(member.groups.values_list("name", flat=True)) == ["Viewer"]


@pytest.mark.django_db(transaction=True)
def test_migrating_back_removes_the_groups_and_forward_makes_them_again(
    django_user_model,
):
    # An earlier transactional test may have emptied the database, groups too.
    roles.roles_sync(apps, using=DEFAULT_DB_ALIAS)
    member = django_user_model.objects.create_user(username="reader", is_staff=True)
    member.groups.add(Group.objects.get(name="Viewer"))

    call_command("migrate", "admin_ui", "zero", verbosity=0)
    assert not Group.objects.filter(name__in=roles.ROLE_NAMES).exists()
    assert not member.groups.exists()
    assert Permission.objects.filter(codename="run_fetch").exists()

    call_command("migrate", "admin_ui", verbosity=0)
    assert group_permissions("Viewer") == VIEWER
    assert group_permissions("Analyst") == ANALYST
