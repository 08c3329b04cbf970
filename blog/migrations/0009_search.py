# Search (blog/search.py): a weighted tsvector with a GIN index on PostgreSQL, an FTS5
# table on SQLite. Neither engine has the other's, so the index itself is made here, by
# vendor, rather than declared in Post.Meta.

import django.contrib.postgres.search
from django.db import migrations, models

FTS5 = (
    "CREATE VIRTUAL TABLE blog_post_search USING fts5("
    "title, extra, body, updates, tokenize = 'porter unicode61 remove_diacritics 2')"
)
GIN = "CREATE INDEX post_search_vector ON blog_post USING gin (search_vector)"


def create_index(apps, schema_editor):
    from blog import search

    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(FTS5)
    # Posts written before search existed: indexed with the code of this release (a
    # database migrated much later can run `manage.py rebuild_search_index` instead).
    search.rebuild(using=schema_editor.connection.alias)
    if vendor == "postgresql":
        schema_editor.execute(GIN)


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS blog_post_search")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS post_search_vector")


class Migration(migrations.Migration):

    dependencies = [
        ("blog", "0008_wordpress_import"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="search_refresh_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="post",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="post",
            index=models.Index(
                condition=models.Q(("search_refresh_at__isnull", False)),
                fields=["search_refresh_at"],
                name="post_search_refresh",
            ),
        ),
        migrations.RunPython(create_index, drop_index),
    ]
