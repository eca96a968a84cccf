"""The two roles of DESIGN §11 as groups: Viewer (view all) and Analyst (also run work).

It lives in admin_ui, the floor that stands on every app, because the groups take
permissions of every app's models and so depend on each app's latest migration. In
core, the ground floor, that would chain core's migrations to every app above it
(`migrate core` would need them all). admin_ui has no models; Django loads the
migrations package of such an app like any other.

Frozen like every migration: a model or permission added later joins the groups by a
new migration here (tests/core/test_roles.py fails until it does).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Whose models Viewer may see: the research data and the task queue.
VIEW_APPS = ["core", "ingestion", "backtesting", "ml", "reporting", "django_q"]

# What Analyst may do beyond viewing: run the work, and keep API tokens (the admin
# limits an Analyst to their own; superusers manage everyone's).
ANALYST_PERMISSIONS = [
    ("core", "run_fetch"),
    ("backtesting", "run_backtest"),
    ("ml", "train_model"),
    ("ml", "run_forecast"),
    ("reporting", "generate_report"),
    ("core", "add_apitoken"),
    ("core", "change_apitoken"),
]

ROLE_NAMES = ["Viewer", "Analyst"]


def _permissions_create(apps, using):
    """Create the content types and permissions of VIEW_APPS now.

    Django creates them after the whole migrate run (post_migrate), too late for a
    fresh database's groups. The helpers skip an app without a models module, which
    every historical app is, so such an app is flagged for the call.
    """
    for label in VIEW_APPS:
        app_config = apps.get_app_config(label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, verbosity=0, apps=apps, using=using)
        finally:
            app_config.models_module = models_module


def roles_sync(apps, *, using, analyst_permissions=ANALYST_PERMISSIONS):
    """Create the two groups, or set them back, to exactly their permissions.

    Re-runnable; also with the live app registry (the tests call it so after a
    transactional test has emptied the database). A later roles migration passes its
    own, longer list of Analyst permissions.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    _permissions_create(apps, using)

    permissions = Permission.objects.using(using)
    view = list(
        permissions.filter(
            content_type__app_label__in=VIEW_APPS, codename__startswith="view_"
        )
    )
    work = [
        permissions.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in analyst_permissions
    ]
    viewer, _ = Group.objects.using(using).get_or_create(name="Viewer")
    viewer.permissions.set(view)
    analyst, _ = Group.objects.using(using).get_or_create(name="Analyst")
    analyst.permissions.set(view + work)


def roles_create(apps, schema_editor):
    roles_sync(apps, using=schema_editor.connection.alias)


def roles_delete(apps, schema_editor):
    """Remove the two groups; their members lose the roles, the permissions stay."""
    Group = apps.get_model("auth", "Group")
    using = schema_editor.connection.alias
    Group.objects.using(using).filter(name__in=ROLE_NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0003_permissions"),
        ("ingestion", "0001_initial"),
        ("backtesting", "0002_permissions"),
        ("ml", "0002_permissions"),
        ("reporting", "0002_permissions"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(roles_create, roles_delete)]
