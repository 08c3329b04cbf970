"""The Contributor, Author and Editor groups (blog/roles.py explains what each may do).

The lists are frozen here: a later change of roles is a new migration, not an edit."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTRIBUTOR = {
    "blog": [
        "view_post",
        "add_post",
        "change_post",
        "view_category",
        "view_source",
        "view_quote",
    ],
    "taggit": ["view_tag"],
}

AUTHOR = {
    **CONTRIBUTOR,
    "blog": [
        *CONTRIBUTOR["blog"],
        "publish_post",
        "view_update",
        "add_update",
        "change_update",
        "delete_update",
    ],
}


def every(model, *extra):
    return [f"{action}_{model}" for action in ("view", "add", "change", "delete")] + list(extra)


EDITOR = {
    "blog": [
        *every("post", "publish_post", "edit_others_posts"),
        *every("update"),
        "view_quote",
        *every("source"),
        *every("category"),
    ],
    "taggit": every("tag"),
    "flatpages": every("flatpage"),
    "admin": ["view_logentry"],
}

GROUPS = {"Contributor": CONTRIBUTOR, "Author": AUTHOR, "Editor": EDITOR}


def make_groups(apps, schema_editor):
    # Django makes permissions after migrate ends; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        wanted = [(app, codename) for app, names in codenames.items() for codename in names]
        found = {
            (perm.content_type.app_label, perm.codename): perm
            for perm in Permission.objects.select_related("content_type").filter(
                codename__in=[codename for _, codename in wanted]
            )
        }
        missing = [f"{app}.{codename}" for app, codename in wanted if (app, codename) not in found]
        if missing:
            raise RuntimeError(f"The {name} group needs permissions that do not exist: {missing}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([found[key] for key in wanted])


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0011_workflow"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("flatpages", "0001_initial"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(make_groups, remove_groups)]
