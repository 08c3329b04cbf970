"""Sitemaps (Django's framework) and robots.txt: what crawlers are asked to fetch.

Every address is on the scheme and host the request named: Django's sitemap views would
put the Site row's domain (example.com) in front of them, so ours hand the framework a
RequestSite made from the request instead. blog/urls.py serves them through the page
cache, like every public page.
"""

from datetime import timedelta
from urllib.parse import quote
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib import sitemaps
from django.contrib.contenttypes.models import ContentType
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.requests import RequestSite
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Exists, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from taggit.models import Tag, TaggedItem

from blog.markdown import clean_text
from blog.models import Category, Post, Quote, Source, Update, published_q
from blog.seo import w3c

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def latest(*moments):
    return max(filter(None, moments), default=None)


class SectionSitemap(sitemaps.Sitemap):
    """Django's, with what a section adds to each <url> (Google News does)."""

    namespaces = ""

    def extra(self, item):
        return ""


class PostSitemap(SectionSitemap):
    """Every published post, oldest first (so a page keeps its posts as new ones come).

    Its lastmod is the later of its last edit and its latest update, so a crawler comes
    back for a thread that grew. Rows, not models: a page lists 50,000 of them.
    """

    def __init__(self):
        self.months = {}
        self.zone = timezone.get_current_timezone()

    def items(self):
        last_update = (
            Update.objects.due()
            .filter(post=OuterRef("pk"))
            .order_by("-published_at")
            .values("published_at")[:1]
        )
        return (
            Post.objects.published()
            .annotate(
                changed_at=Greatest("modified_at", Coalesce(Subquery(last_update), "modified_at"))
            )
            .order_by("published_at", "id")
            .values_list("slug", "published_at", "changed_at", named=True)
        )

    def location(self, post):
        """Post.get_absolute_url() from a row, with reverse() once a month of posts, not
        once a post (50,000 of them took two seconds). A test checks that both agree."""
        when = timezone.localtime(post.published_at, self.zone)  # as Post.url_date()
        year, month = when.year, when.month
        if (year, month) not in self.months:
            # A placeholder that is a slug: reverse() checks what it is given.
            head, _, tail = reverse("blog:post", args=[year, month, "slug"]).rpartition("slug")
            self.months[year, month] = head, tail
        head, tail = self.months[year, month]
        return f"{head}{quote(post.slug, safe='')}{tail}"

    def lastmod(self, post):
        return post.changed_at

    def get_latest_lastmod(self):
        # Two aggregates, not every post's lastmod (Django's default loads them all).
        edited = Post.objects.published().aggregate(at=Max("modified_at"))["at"]
        updates = Update.objects.due().filter(published_q("post__"))
        return latest(edited, updates.aggregate(at=Max("published_at"))["at"])


class NewsSitemap(PostSitemap):
    """Google News: posts published in the last two days, at most 1,000 to a sitemap."""

    limit = 1000
    namespaces = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'

    def items(self):
        since = timezone.now() - timedelta(days=2)
        return (
            Post.objects.published()
            .filter(published_at__gte=since)
            .order_by("-published_at", "-id")
            .values_list("slug", "published_at", "title", named=True)
        )

    def lastmod(self, post):
        return None  # a News sitemap dates a story by its publication

    def get_latest_lastmod(self):
        return self.items().aggregate(at=Max("published_at"))["at"]

    def extra(self, post):
        name = text(settings.DATELINE["SITE_NAME"])
        return (
            f"<news:news><news:publication><news:name>{name}</news:name>"
            f"<news:language>{news_language()}</news:language></news:publication>"
            f"<news:publication_date>{w3c(post.published_at, self.zone)}</news:publication_date>"
            f"<news:title>{text(post.title)}</news:title></news:news>"
        )


class ListedSitemap(SectionSitemap):
    """(address, lastmod) pairs made from one query: found once, however often asked."""

    def items(self):
        if not hasattr(self, "_found"):
            self._found = self.find()
        return self._found

    def find(self):
        raise NotImplementedError

    def location(self, item):
        return item[0]

    def lastmod(self, item):
        return item[1]

    def get_latest_lastmod(self):
        return latest(*(self.lastmod(item) for item in self.items()))


class PageSitemap(ListedSitemap):
    """The home page, the sources and corrections, and the public flat pages."""

    def find(self):
        pages = FlatPage.objects.filter(
            sites=settings.SITE_ID, registration_required=False
        ).order_by("url")
        lists = [reverse(f"blog:{name}") for name in ("home", "sources", "corrections")]
        return [(url, None) for url in lists] + [(escape_uri_path(p.url), None) for p in pages]

    def get_latest_lastmod(self):
        return None


class CategorySitemap(ListedSitemap):
    """Sections with a published post in them or in a section under them; lastmod is the
    latest such post."""

    def find(self):
        newest = (
            Post.objects.published()
            .filter(category=OuterRef("pk"))
            .order_by("-published_at")
            .values("published_at")[:1]
        )
        # One index probe a section; a section's page lists its subsections' too.
        stamps = {}
        for pk, at in Category.objects.annotate(at=Subquery(newest)).values_list("pk", "at"):
            for category in Category.lineage(pk) if at else []:
                stamps[category.pk] = latest(stamps.get(category.pk), at)
        tree = Category.tree()
        return sorted((tree[pk].get_absolute_url(), at) for pk, at in stamps.items())


class TagSitemap(ListedSitemap):
    """Tags on a published post. Without lastmod: finding each tag's newest post means
    reading every tagged post (1.5 s at 100,000 posts); finding that it has one does not."""

    def find(self):
        tagged = TaggedItem.objects.filter(
            tag=OuterRef("pk"),
            content_type=ContentType.objects.get_for_model(Post),
            object_id__in=Post.objects.published().values("pk"),
        )
        slugs = Tag.objects.filter(Exists(tagged)).order_by("slug").values_list("slug", flat=True)
        return [(reverse("blog:tag", args=[slug]), None) for slug in slugs]


class SourceSitemap(ListedSitemap):
    """Sources quoted where readers can see it; lastmod is their latest such quote, read
    from the (source, newest first) index."""

    def find(self):
        newest = (
            Quote.objects.filter(
                published_q("post__"), source=OuterRef("pk"), published_at__lte=timezone.now()
            )
            .order_by("-published_at")
            .values("published_at")[:1]
        )
        sources = (
            Source.objects.annotate(at=Subquery(newest))
            .filter(at__isnull=False)
            .order_by("slug")
            .values_list("slug", "at")
        )
        return [(reverse("blog:source", args=[slug]), at) for slug, at in sources]


SECTIONS = {
    "pages": PageSitemap,
    "posts": PostSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
    "sources": SourceSitemap,
    "news": NewsSitemap,
}


def index(request):
    """/sitemap.xml: every section's sitemap, one entry for each page of 50,000 addresses.
    Empty sections are left out (a sitemap must list at least one address)."""
    zone = timezone.get_current_timezone()
    entries = []
    for name, kind in SECTIONS.items():
        sitemap = kind()
        pages = sitemap.paginator
        if not pages.count:
            continue
        url = request.build_absolute_uri(reverse(f"blog:sitemap_{name}"))
        lastmod = sitemap.get_latest_lastmod()
        for page in pages.page_range:
            entries.append(
                f"<sitemap><loc>{text(url if page == 1 else f'{url}?page={page}')}</loc>"
                f"{lastmod_element(lastmod, zone)}</sitemap>\n"
            )
    return xml_response(f'<sitemapindex xmlns="{SITEMAP_NS}">', entries, "</sitemapindex>")


def section(request, name):
    """One section's sitemap (/sitemap-posts.xml), `?page=N` past its first 50,000."""
    sitemap = SECTIONS[name]()
    try:
        urls = sitemap.get_urls(
            page=request.GET.get("page", 1), site=RequestSite(request), protocol=request.scheme
        )
    except (EmptyPage, PageNotAnInteger) as error:
        raise Http404("No such page of this sitemap.") from error
    zone = timezone.get_current_timezone()
    entries = [
        f"<url><loc>{text(url['location'])}</loc>{lastmod_element(url['lastmod'], zone)}"
        f"{sitemap.extra(url['item'])}</url>\n"
        for url in urls
    ]
    opening = f'<urlset xmlns="{SITEMAP_NS}"{sitemap.namespaces}>'
    return xml_response(opening, entries, "</urlset>")


def text(value):
    """Text as XML carries it: escaped, without the characters XML 1.0 cannot hold."""
    return escape(clean_text(value))


def lastmod_element(when, zone):
    return f"<lastmod>{w3c(when, zone)}</lastmod>" if when else ""


def xml_response(opening, entries, closing):
    """Written with f-strings, every text escaped: a template loop over 50,000 addresses
    took two seconds, Django's SimplerXMLGenerator one; this, a tenth of that."""
    body = "".join(['<?xml version="1.0" encoding="UTF-8"?>\n', opening, "\n", *entries, closing])
    response = HttpResponse(body, content_type="application/xml")
    # The sitemap files themselves are for crawlers, not for search results.
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def news_language():
    """Google News wants ISO 639 ("en"), except for Chinese ("zh-cn", "zh-tw")."""
    code = settings.LANGUAGE_CODE.lower()
    return code if code.startswith("zh") else code.split("-")[0]


def robots_txt(request):
    """Crawl everything public; not search results, previews or the admin; here are the
    sitemaps.

    The admin is named only at its default address: moved (ADMIN_URL), it is a secret
    robots.txt must not give away, and its pages tell crawlers `noindex` themselves.
    """
    prefix = get_script_prefix()
    disallow = [reverse("blog:search"), f"{prefix}?s=", f"{prefix}preview/"]
    if settings.ADMIN_URL == "admin/":
        disallow.insert(0, f"{prefix}admin/")
    context = {
        "disallow": disallow,
        "sitemap": request.build_absolute_uri(reverse("blog:sitemap")),
    }
    return render(request, "robots.txt", context, content_type="text/plain; charset=utf-8")
