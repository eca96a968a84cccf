"""Sweeps and comparisons join the roles: Viewer sees them (every view_ permission);
Analyst runs them with backtesting.run_backtest, which it already has.

The latest roles migration: the tests sync the groups with its `roles_sync`.
"""

from importlib import import_module

from django.db import migrations

base = import_module("admin_ui.migrations.0001_roles")
previous = import_module("admin_ui.migrations.0002_corporate_actions_roles")

VIEW_APPS = base.VIEW_APPS
ROLE_NAMES = base.ROLE_NAMES
ANALYST_PERMISSIONS = previous.ANALYST_PERMISSIONS
roles_create, roles_delete = base.roles_create, base.roles_delete


def roles_sync(apps, *, using):
    base.roles_sync(apps, using=using, analyst_permissions=ANALYST_PERMISSIONS)


def roles_update(apps, schema_editor):
    roles_sync(apps, using=schema_editor.connection.alias)


def roles_back(apps, schema_editor):
    previous.roles_sync(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("admin_ui", "0002_corporate_actions_roles"),
        ("backtesting", "0006_research"),
    ]

    operations = [migrations.RunPython(roles_update, roles_back)]
