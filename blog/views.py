from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import ListView, MonthArchiveView, YearArchiveView
from taggit.models import Tag

from blog.models import Category, Post, Quote, Source, Update

PER_PAGE = settings.DATELINE["POSTS_PER_PAGE"]


def feed_links(request, title, name, *args):
    """A page's own feeds, for autodiscovery in <head> and its visible Subscribe link."""
    rss = reverse(f"blog:{name}", args=args)
    atom = reverse(f"blog:{name}_atom", args=args)
    return {"title": title, "rss": rss, "atom": atom, "url": request.build_absolute_uri(rss)}


class PostListView(ListView):
    queryset = Post.objects.published().for_listing()
    paginate_by = PER_PAGE


class PostYearArchiveView(YearArchiveView):
    queryset = Post.objects.published().for_listing()
    date_field = "published_at"
    make_object_list = True
    paginate_by = PER_PAGE


class PostMonthArchiveView(MonthArchiveView):
    queryset = Post.objects.published().for_listing()
    date_field = "published_at"
    month_format = "%m"
    paginate_by = PER_PAGE


def post_detail(request, year, month, slug):
    # Staff see drafts and scheduled posts too, marked as such, to preview them.
    posts = Post.objects.all() if request.user.is_staff else Post.objects.published()
    post = get_object_or_404(posts.select_related("author", "category"), slug=slug)
    if request.path != post.get_absolute_url():
        return redirect(post, permanent=post.is_published)
    updates = list(post.updates.filter(published_at__lte=timezone.now()).select_related("author"))
    corrections = [update for update in updates if update.kind == Update.Kind.CORRECTION]
    context = {
        "post": post,
        "tags": list(post.tags.all()),
        "updates": updates,
        "latest_correction": corrections[-1] if corrections else None,
        "breadcrumbs": Category.lineage(post.category_id),
        "feed": feed_links(request, f"Updates to “{post.title}”", "post_feed", year, month, slug),
    }
    return render(request, "blog/post_detail.html", context)


class CategoryView(ListView):
    paginate_by = PER_PAGE
    template_name = "blog/category_detail.html"

    def get_queryset(self):
        self.category = get_object_or_404(Category, slug=self.kwargs["slug"])
        # Like WordPress, a section's archive includes its subsections.
        return (
            Post.objects.published()
            .for_listing()
            .filter(category__in=Category.descendant_ids(self.category.pk))
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            category=self.category,
            breadcrumbs=Category.lineage(self.category.pk),
            feed=feed_links(self.request, self.category.name, "category_feed", self.category.slug),
            **kwargs,
        )


class TagView(ListView):
    paginate_by = PER_PAGE
    template_name = "blog/tag_detail.html"

    def get_queryset(self):
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return Post.objects.published().for_listing().filter(tags=self.tag)

    def get_context_data(self, **kwargs):
        feed = feed_links(self.request, f"#{self.tag.name}", "tag_feed", self.tag.slug)
        return super().get_context_data(tag=self.tag, feed=feed, **kwargs)


def visible_quotes():
    return Quote.objects.filter(
        Q(update__isnull=True) | Q(update__published_at__lte=timezone.now()),
        post__in=Post.objects.published(),
    )


class SourceListView(ListView):
    """Every quoted source, ranked by how often it is quoted: all time and lately."""

    paginate_by = 50
    template_name = "blog/source_list.html"

    def get_queryset(self):
        return self.ranked(visible_quotes())

    def get_context_data(self, **kwargs):
        since = timezone.now() - timedelta(days=30)
        recent_quotes = visible_quotes().filter(
            Q(update__published_at__gte=since)
            | Q(update__isnull=True, post__published_at__gte=since)
        )
        return super().get_context_data(recent=self.ranked(recent_quotes)[:10], **kwargs)

    @staticmethod
    def ranked(quotes):
        return (
            Source.objects.select_related("affiliation")
            .annotate(quote_count=Count("quotes", filter=Q(quotes__in=quotes)))
            .filter(quote_count__gt=0)
            .order_by("-quote_count", "name")
        )


class SourceView(ListView):
    """One source's quotes across every post, newest first."""

    paginate_by = 20
    template_name = "blog/source_detail.html"

    def get_queryset(self):
        self.source = get_object_or_404(
            Source.objects.select_related("affiliation"), slug=self.kwargs["slug"]
        )
        return (
            visible_quotes()
            .filter(source=self.source)
            .select_related("post", "update")
            .order_by(Coalesce("update__published_at", "post__published_at").desc(), "position")
        )

    def get_context_data(self, **kwargs):
        people = []
        if self.source.kind == Source.Kind.OUTLET:
            people = self.source.people.annotate(
                quote_count=Count("quotes", filter=Q(quotes__in=visible_quotes()))
            ).order_by("-quote_count", "name")
        feed = feed_links(
            self.request, f"Quoting {self.source.name}", "source_feed", self.source.slug
        )
        return super().get_context_data(source=self.source, people=people, feed=feed, **kwargs)


def healthz(request):
    """For load balancers: 200 when the database and the cache answer, else 503."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 (any failure means unhealthy)
        checks["database"] = f"error: {error.__class__.__name__}"
    try:
        cache.set("healthz", "ok", 5)
        checks["cache"] = "ok" if cache.get("healthz") == "ok" else "error: no round trip"
    except Exception as error:  # noqa: BLE001
        checks["cache"] = f"error: {error.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    response = JsonResponse({"status": "ok" if healthy else "error", **checks})
    response.status_code = 200 if healthy else 503
    response["Cache-Control"] = "no-store"
    return response
