"""EXPLAIN ANALYZE of every hot query, for a seeded PostgreSQL database (seed_bench).

    DATABASE_URL=postgres://… python -m tests.bench_explain > bench/results/explain.txt

Prints each query's execution time and any sequential scan in its plan. The queries are
built by the same code the pages use, on the largest tag and the most-quoted source.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from taggit.models import Tag  # noqa: E402

from blog import search  # noqa: E402
from blog.models import Category, Post, Source, Update  # noqa: E402
from blog.views import visible_quotes  # noqa: E402


def hot_queries():
    now = timezone.now()
    listing = Post.objects.published().order_by("-published_at", "-id")
    page_ids = list(listing.values_list("pk", flat=True)[:10])
    live = Post.objects.get(slug="bench-live-thread")
    source = Source.objects.annotate(n=Count("quotes")).order_by("-n").first()
    tag = Tag.objects.annotate(n=Count("taggit_taggeditem_items")).order_by("-n").first()
    section = Category.objects.filter(parent=None).first()
    due = Update.objects.filter(published_at__gt=now).order_by().values_list("published_at")
    found = search.Search(search.parse("kestrel bay"), Post.objects.published())
    return {
        "list: ids of page 1": listing.values_list("pk", flat=True)[:10],
        "list: ids of page 5,000": listing.values_list("pk", flat=True)[49990:50000],
        "list: count": listing.order_by().values_list("pk", flat=True),
        "list: the page's rows": Post.objects.filter(pk__in=page_ids).for_listing(),
        "list: the page's threads": Update.objects.due()
        .filter(post__in=page_ids)
        .order_by()
        .values("post")
        .annotate(n=Count("pk")),
        "post: by slug": listing.select_related("author", "category").filter(slug=live.slug),
        "post: its 200 updates": live.updates.due().select_related("author"),
        "section: ids": listing.filter(
            category__in=Category.descendant_ids(section.pk)
        ).values_list("pk", flat=True)[:10],
        f"tag: ids ({tag.n:,} posts)": listing.tagged(tag).values_list("pk", flat=True)[:10],
        f"source: quotes ({source.n:,})": visible_quotes()
        .filter(source=source)
        .select_related("post", "update")
        .order_by("-published_at", "position")[:20],
        "feed: latest 20": listing.select_related("author", "category")[:20],
        "search: ids of page 1": found.ranked().values_list("pk", flat=True)[:10],
        "search: count": found.posts.filter(search_vector=found.tsquery()).values_list("pk"),
        "corrections": Update.objects.corrections().order_by("-published_at", "-id")[:20],
        "next scheduled item": Post.objects.filter(status="published", published_at__gt=now)
        .order_by()
        .values_list("published_at")
        .union(due)
        .order_by("published_at")[:1],
    }


def main():
    print(f"{Post.objects.count():,} posts; PostgreSQL {connection.pg_version}")
    print(f"{'query':34} {'time':>10}  sequential scans")
    for name, queryset in hot_queries().items():
        sql, params = queryset.query.sql_with_params()
        if name in ("list: count", "search: count"):
            sql = f"SELECT COUNT(*) FROM ({sql}) AS counted"
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE) {sql}", params)
            plan = [row[0] for row in cursor.fetchall()]
        took = next(line for line in plan if "Execution Time" in line).split(":")[1].strip()
        scans = [line.split("Seq Scan on ")[1].split()[0] for line in plan if "Seq Scan" in line]
        print(f"{name:34} {took:>10}  {', '.join(scans) or '-'}")


if __name__ == "__main__":
    main()
