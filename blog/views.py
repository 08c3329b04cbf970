import hashlib
from datetime import timedelta
from functools import cached_property

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage, Paginator
from django.db import connection
from django.db.models import Count, F, Q, prefetch_related_objects
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.encoding import uri_to_iri
from django.utils.html import strip_tags
from django.utils.http import http_date, quote_etag
from django.utils.text import Truncator
from django.views.generic import ListView, MonthArchiveView, YearArchiveView
from django.views.static import serve
from taggit.models import Tag

from blog import charts, roles, search, seo
from blog.caching import remember, rendered_fragments
from blog.feeds import author_name, plain_text
from blog.models import Category, Post, Quote, Source, Update, attach_threads, published_q
from blog.security import csp_nonce

PER_PAGE = settings.DATELINE["POSTS_PER_PAGE"]


def feed_links(request, title, name, *args):
    """A page's own feeds, for autodiscovery in <head> and its visible Subscribe link."""
    rss = reverse(f"blog:{name}", args=args)
    atom = reverse(f"blog:{name}_atom", args=args)
    return {"title": title, "rss": rss, "atom": atom, "url": request.build_absolute_uri(rss)}


def post_items(posts):
    """Each listed post's HTML: one cache read for the page, rendering only what changed.

    A fragment is keyed by what it shows of its own row and thread; names of sections,
    tags and authors renew them all (blog/caching.py). Tags are fetched for misses only.
    """

    def render(missing):
        prefetch_related_objects(missing, "tags")
        return [render_to_string("blog/_post_item.html", {"post": post}) for post in missing]

    def key(post):
        return ("post-item", post.pk, post.modified_at, post.update_count, post.last_update_at)

    return rendered_fragments(list(posts), key, render)


class CountedOncePaginator(Paginator):
    """Counts a list once per content version: at 100,000 posts a COUNT is the page's
    most expensive query, and its answer only changes with the content."""

    def __init__(self, *args, name, **kwargs):
        super().__init__(*args, **kwargs)
        self.name = name

    @cached_property
    def count(self):
        return remember(f"count:{self.name}", lambda: Paginator.count.func(self))


def counted_once(view, queryset, per_page, **kwargs):
    """A ListView's get_paginator(): every page of one list (its address without ?page=)
    shares one count."""
    return CountedOncePaginator(queryset, per_page, name=view.request.path, **kwargs)


class ListingMixin:
    """Lists of posts. Evaluated per request: published() compares with the current time."""

    get_paginator = counted_once

    def get_queryset(self):
        return Post.objects.published().order_by("-published_at", "-id")

    def paginate_queryset(self, queryset, page_size):
        # Find the page's ids from the index alone, then load just those rows: deep pages
        # (page 5,000) skip ids, not whole rows with their thread counts.
        ids = queryset.values_list("pk", flat=True)
        paginator, page, ids, is_paginated = super().paginate_queryset(ids, page_size)
        posts = attach_threads(Post.objects.filter(pk__in=list(ids)).for_listing())
        page.object_list = posts
        return paginator, page, posts, is_paginated

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["post_items"] = post_items(context["object_list"])
        return context


class PostListView(ListingMixin, ListView):
    paginate_by = PER_PAGE


def archive_months():
    """Every month with a published post, oldest first: one query per content version."""
    return remember(
        "archive-months", lambda: list(Post.objects.published().dates("published_at", "month"))
    )


class ArchiveMixin(ListingMixin):
    """Date archives whose months, emptiness and neighbours come from archive_months()."""

    date_field = "published_at"
    paginate_by = PER_PAGE
    allow_empty = True  # an empty period is a 404 all the same: see get_date_list

    def months_shown(self, months):
        raise NotImplementedError

    def get_date_list(self, queryset, date_type=None, ordering="ASC"):
        months = self.months_shown(archive_months())
        if not months:
            raise Http404("Nothing was published then.")
        return months

    @staticmethod
    def neighbour(months, after=None, before=None):
        if after is not None:
            return next((m for m in months if m > after), None)
        return next((m for m in reversed(months) if m < before), None)


class PostYearArchiveView(ArchiveMixin, YearArchiveView):
    make_object_list = True

    def months_shown(self, months):
        return [month for month in months if month.year == int(self.get_year())]

    def get_next_year(self, date):
        month = self.neighbour(archive_months(), after=date.replace(month=12, day=31))
        return month and month.replace(month=1)

    def get_previous_year(self, date):
        month = self.neighbour(archive_months(), before=date.replace(month=1, day=1))
        return month and month.replace(month=1)


class PostMonthArchiveView(ArchiveMixin, MonthArchiveView):
    month_format = "%m"

    def months_shown(self, months):
        wanted = (int(self.get_year()), int(self.get_month()))
        return [month for month in months if (month.year, month.month) == wanted]

    def get_next_month(self, date):
        return self.neighbour(archive_months(), after=date.replace(day=1))

    def get_previous_month(self, date):
        return self.neighbour(archive_months(), before=date.replace(day=1))


def post_detail(request, year, month, slug):
    # Staff see the drafts and scheduled posts they may reach, marked as such.
    posts = roles.previewable_posts(request.user)
    post = posts.select_related("author", "category").filter(slug=slug).first()
    if post is None:
        if Post.objects.gone().filter(slug=slug).exists():
            # It was public and is in the trash: gone, so search engines drop it.
            return render(request, "410.html", status=410)
        raise Http404("No post at this address.")
    # request.path is decoded; a Unicode slug's address is percent-encoded.
    if request.path != uri_to_iri(post.get_absolute_url()):
        return redirect(post, permanent=post.is_published)
    return render(request, "blog/post_detail.html", post_context(request, post))


def post_context(request, post, update_form=None):
    """What the post page shows."""
    attach_threads([post])
    year, month = post.url_date()
    updates_url = reverse("blog:post_updates", args=[year, month, post.slug])
    live = None
    if post.is_developing and post.is_published:
        live = {"url": updates_url, "interval": settings.DATELINE["LIVE_POLL_SECONDS"]}
    if update_form is None and post.is_published and roles.may_add_update(request.user, post):
        update_form = UpdateForm()
    thread_html, structured = post_thread(request, post)
    header_html, tag_names = post_header(post)
    return {
        "post": post,
        "header_html": header_html,
        "thread_html": thread_html,
        "breadcrumbs": Category.lineage(post.category_id),
        "feed": feed_links(
            request, f"Updates to “{post.title}”", "post_feed", year, month, post.slug
        ),
        "live": live,
        "updates_url": updates_url,
        "update_form": update_form,
        "may_toggle_thread": roles.may_toggle_thread(request.user, post),
        "structured_data": structured,
        "share_image": seo.post_image(request, post),
        "article": seo.article(post, tag_names),
    }


def latest_correction(post):
    """The newest visible correction (for the header's "Corrected on"), if there is one."""
    if post.last_correction_at is None:
        return None
    corrections = post.updates.filter(kind=Update.Kind.CORRECTION)
    found = corrections.filter(published_at=post.last_correction_at).order_by("-id").first()
    return found and {"id": found.pk, "at": found.published_at}


def post_header(post):
    """Title, dates, byline, section and tags: rendered once per state of post and thread.

    Returns the HTML and the tags' names (for the page's article:tag), kept with it.
    """

    def render(posts):
        tags = list(post.tags.all())
        context = {
            "post": post,
            "tags": tags,
            "last_update_at": post.last_update_at,
            "latest_correction": latest_correction(post),
        }
        return [(render_to_string("blog/_post_header.html", context), [t.name for t in tags])]

    stamps = (post.modified_at, post.last_update_at, post.last_correction_at)
    [found] = rendered_fragments([post], lambda post: ("post-header", post.pk, *stamps), render)
    return found


def post_thread(request, post):
    """The thread's HTML and the page's JSON-LD, rendered once per state of the thread."""

    def render(posts):
        updates = list(post.updates.due().select_related("author").order_by("-published_at", "-id"))
        context = {"post": post, "updates": updates, "update_ids": [u.pk for u in updates]}
        html = render_to_string("blog/_thread.html", context)
        return [(html, structured_data(request, post, updates))]

    key = ("post-thread", thread_state(post)["etag"], request.build_absolute_uri("/"))
    [(html, structured)] = rendered_fragments([post], lambda post: key, render)
    return html, structured


def structured_data(request, post, updates):
    """schema.org JSON-LD: a LiveBlogPosting while the story has a thread, else BlogPosting."""
    url = request.build_absolute_uri(post.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "url": url,
        "datePublished": post.published_at,
        "dateModified": updates[0].published_at if updates else post.published_at,
        "author": {"@type": "Person", "name": author_name(post.author)},
        "articleSection": post.category.name,
        "description": post.excerpt or plain_text(post.body_html, chars=300),
        "image": [seo.post_image(request, post)["url"]],
        "mainEntityOfPage": url,
        "publisher": seo.publisher(request),
    }
    if post.is_developing or updates:
        data["@type"] = "LiveBlogPosting"
        data["coverageStartTime"] = post.published_at
        if not post.is_developing and post.developing_ended_at:
            data["coverageEndTime"] = post.developing_ended_at
        data["liveBlogUpdate"] = [
            {
                "@type": "BlogPosting",
                "headline": f"{update.get_kind_display()}: {post.title}",
                "url": f"{url}#update-{update.pk}",
                "datePublished": update.published_at,
                "author": {"@type": "Person", "name": author_name(update.author)},
                "articleBody": Truncator(strip_tags(update.body_html)).chars(500),
            }
            for update in updates
        ]
    return seo.json_ld(data)


class UpdateForm(forms.ModelForm):
    class Meta:
        model = Update
        fields = ["kind", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}


def post_updates(request, year, month, slug):
    """The live thread: newest updates as HTML for readers' polls; staff POST new ones.

    Readers' polls are answered by the page cache (a 304, or the stored thread); this
    view renders on a miss, and answers staff, whose polls carry their session, with the
    thread's own validators, so an unchanged thread is still a 304 for them.
    """
    if request.method == "POST":
        return add_update(request, year, month, slug)
    post = thread_state_query(slug)
    if post is None or not post.is_at(year, month):
        raise Http404("No story at this address.")
    state = thread_state(post)
    response = get_conditional_response(
        request, etag=state["etag"], last_modified=state["modified"]
    )
    if response is None:
        key = ("live-thread", state["etag"])
        [html] = rendered_fragments([post], lambda post: key, lambda posts: [render_thread(post)])
        response = HttpResponse(html)
    response.headers["ETag"] = state["etag"]
    response.headers["Last-Modified"] = http_date(state["modified"])
    return response


def thread_state_query(slug):
    post = Post.objects.published().filter(slug=slug).first()
    return post and attach_threads([post])[0]


def thread_state(post):
    """What a reader's copy of the thread is checked against."""
    parts = (
        post.pk,
        post.update_count,
        post.updates_modified,
        post.modified_at,
        post.is_developing,
    )
    modified = max(filter(None, [post.modified_at, post.updates_modified]))
    return {
        "etag": quote_etag(hashlib.sha256(repr(parts).encode()).hexdigest()[:24]),
        "modified": int(modified.timestamp()),
    }


def render_thread(post):
    limit = settings.DATELINE["LIVE_UPDATES"]
    updates = post.updates.due().order_by("-published_at", "-id")
    shown = list(updates.select_related("author")[:limit])
    ids = [update.pk for update in shown]
    if len(shown) == limit:
        ids = list(updates.values_list("pk", flat=True))
    context = {"post": post, "updates": shown, "update_ids": ids}
    return render_to_string("blog/_thread.html", context)


def add_update(request, year, month, slug):
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied
    post = get_object_or_404(
        Post.objects.published().select_related("author", "category"), slug=slug
    )
    if not post.is_at(year, month):
        raise Http404("No story at this address.")
    if not roles.may_add_update(request.user, post):
        raise PermissionDenied
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = UpdateForm(request.POST)
    if not post.is_developing:
        form.add_error(None, "This thread is closed. Reopen it to add updates.")
    if form.is_valid():
        update = form.save(commit=False)
        update.post = post
        update.author = update.modified_by = request.user
        update.save()
        if wants_json:
            return JsonResponse({"id": update.pk, "url": update.get_absolute_url()}, status=201)
        return HttpResponseRedirect(update.get_absolute_url(), status=303)
    if wants_json:
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    response = render(request, "blog/post_detail.html", post_context(request, post, form))
    response.status_code = 400
    return response


class CategoryView(ListingMixin, ListView):
    paginate_by = PER_PAGE
    template_name = "blog/category_detail.html"

    def get_queryset(self):
        self.category = Category.with_slug(self.kwargs["slug"])
        # Like WordPress, a section's archive includes its subsections.
        return super().get_queryset().filter(category__in=Category.descendant_ids(self.category.pk))

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            category=self.category,
            breadcrumbs=Category.lineage(self.category.pk),
            feed=feed_links(self.request, self.category.name, "category_feed", self.category.slug),
            **kwargs,
        )


class TagView(ListingMixin, ListView):
    paginate_by = PER_PAGE
    template_name = "blog/tag_detail.html"

    def get_queryset(self):
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return super().get_queryset().tagged(self.tag)

    def get_context_data(self, **kwargs):
        feed = feed_links(self.request, f"#{self.tag.name}", "tag_feed", self.tag.slug)
        return super().get_context_data(tag=self.tag, feed=feed, **kwargs)


class CorrectionListView(ListView):
    """Every correction on the site, newest first: readers trust a site that shows them."""

    paginate_by = 20
    template_name = "blog/correction_list.html"

    def get_queryset(self):
        return (
            Update.objects.corrections()
            .select_related("post", "author")
            .defer("post__search_vector")
            .order_by("-published_at", "-id")
        )

    def get_context_data(self, **kwargs):
        feed = feed_links(self.request, "Corrections", "corrections_feed")
        return super().get_context_data(feed=feed, **kwargs)


def visible_quotes():
    """Quotes readers can see: in a published post, and in an update whose time has come."""
    # A join, not `post__in=published()`: that makes SQLite list every published post.
    return Quote.objects.filter(published_q("post__"), published_at__lte=timezone.now())


class SourceListView(ListView):
    """Every quoted source, ranked by how often it is quoted: all time and lately."""

    paginate_by = 50
    template_name = "blog/source_list.html"
    context_object_name = "source_list"

    # Counting every quote on the site is the one aggregate over the whole archive: it is
    # computed once per content version and kept in the shared cache.

    def get_queryset(self):
        return remember("sources-ranked", lambda: self.ranked(visible_quotes()))

    def get_context_data(self, **kwargs):
        def recent():
            since = timezone.now() - timedelta(days=30)
            quotes = visible_quotes().filter(published_at__gte=since)
            return self.ranked(quotes)[:10]

        return super().get_context_data(recent=remember("sources-recent", recent), **kwargs)

    @staticmethod
    def ranked(quotes):
        return list(
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
            .defer("post__body", "post__body_html", "update__body", "update__body_html")
            .defer("post__search_vector")
            .order_by("-published_at", "position")
        )

    get_paginator = counted_once

    def get_context_data(self, **kwargs):
        people = []
        if self.source.kind == Source.Kind.OUTLET:
            ranked = self.source.people.annotate(
                quote_count=Count("quotes", filter=Q(quotes__in=visible_quotes()))
            ).order_by("-quote_count", "name")
            people = remember(f"people:{self.source.pk}", lambda: list(ranked))
        feed = feed_links(
            self.request, f"Quoting {self.source.name}", "source_feed", self.source.slug
        )
        # One grouped query each, once per content version.
        history = remember(f"history:{self.source.pk}", lambda: source_history(self.source))
        beside = remember(f"beside:{self.source.pk}", lambda: quoted_beside(self.source))
        return super().get_context_data(
            source=self.source, people=people, feed=feed, history=history, beside=beside, **kwargs
        )


def source_history(source):
    """How often the source was quoted, month by month: a chart, a sentence, a table."""
    series = charts.per_month(visible_quotes().filter(source=source), "published_at")
    if not series:
        return {}
    return {
        "chart": charts.month_bars(series, f"Quotes of {source.name} per month", "history"),
        "summary": charts.summary(series),
        "months": [(month, count) for month, count in series if count],
    }


def quoted_beside(source):
    """The five sources quoted in the most posts that also quote this one."""
    posts = visible_quotes().filter(source=source).values("post")
    return list(
        visible_quotes()
        .filter(post__in=posts)
        .exclude(source=source)
        .values(name=F("source__name"), slug=F("source__slug"))
        .annotate(posts=Count("post", distinct=True))
        .order_by("-posts", "name")[:5]
    )


# What a search page's results depend on: the page cache keeps one copy per combination.
SEARCH_PARAMETERS = ("q", "category", "tag", "source", "year", "page")


def search_results(request):
    """/search/?q=…: published posts by their words, best first, a page at a time."""
    years = sorted({month.year for month in archive_months()}, reverse=True)
    form = search.SearchForm(request.GET, years=years)
    context = {"form": form, "searched": False}
    if form.is_search() and form.is_valid():
        search.refresh_due()
        if (found := form.search()) is not None:
            paginator = Paginator(found, PER_PAGE)
            try:
                page = paginator.page(request.GET.get("page") or 1)
            except InvalidPage as error:
                raise Http404("No such page of results.") from error
            context.update(
                searched=True,
                paginator=paginator,
                page_obj=page,
                is_paginated=page.has_other_pages(),
                hits=page.object_list,
            )
    return render(request, "blog/search.html", context)


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


def media_file(request, path):
    """Uploaded files, where Django serves them (not in production): a name the file system
    refuses (10 KB long) is a missing file like any other, not a 500."""
    try:
        return serve(request, path, document_root=settings.MEDIA_ROOT)
    except OSError as error:
        raise Http404("No such file.") from error


def server_error(request):
    """The 500 page, self-contained; its inline style is allowed by this answer's nonce."""
    html = loader.get_template("500.html").render({"csp_nonce": csp_nonce(request)})
    return HttpResponseServerError(html)
