from django.urls import path, register_converter
from django.urls.converters import StringConverter

from blog import feeds, pages, preview, sitemaps, views
from blog.caching import allow_methods, public_page


class FourDigitYear:
    regex = "[0-9]{4}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):04d}"


class TwoDigitMonth:
    regex = "0[1-9]|1[0-2]"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):02d}"


class UnicodeSlug(StringConverter):
    """A slug in any script, as SlugField(allow_unicode=True) takes: an imported WordPress
    post keeps /2026/03/αθήνα-…/ (browsers send it percent-encoded; Django matches the
    decoded path, and reverse() encodes it)."""

    regex = r"[-\w]+"


register_converter(FourDigitYear, "yyyy")
register_converter(TwoDigitMonth, "mm")
register_converter(UnicodeSlug, "uslug")


def feed_paths(page, feed, name):
    """RSS 2.0 at …/feed/ and Atom 1.0 at …/feed/atom/ (WordPress's addresses)."""
    # Feed readers may reuse a feed for FEED_MAX_AGE without asking; pages they revalidate.
    return [
        path(f"{page}feed/", public_page(feed(), "FEED_MAX_AGE"), name=name),
        path(f"{page}feed/atom/", public_page(feed.atom(), "FEED_MAX_AGE"), name=f"{name}_atom"),
    ]


app_name = "blog"
urlpatterns = [
    path("", public_page(views.PostListView.as_view()), name="home"),
    path("healthz", allow_methods(views.healthz), name="healthz"),
    path("<yyyy:year>/", public_page(views.PostYearArchiveView.as_view()), name="year"),
    path(
        "<yyyy:year>/<mm:month>/",
        public_page(views.PostMonthArchiveView.as_view()),
        name="month",
    ),
    path("<yyyy:year>/<mm:month>/<uslug:slug>/", public_page(views.post_detail), name="post"),
    path(
        "<yyyy:year>/<mm:month>/<uslug:slug>/updates/",
        # Staff post updates here; readers only poll.
        public_page(views.post_updates, "LIVE_MAX_AGE", methods=("GET", "HEAD", "POST")),
        name="post_updates",
    ),
    path("corrections/", public_page(views.CorrectionListView.as_view()), name="corrections"),
    path("category/<uslug:slug>/", public_page(views.CategoryView.as_view()), name="category"),
    path("tag/<uslug:slug>/", public_page(views.TagView.as_view()), name="tag"),
    path("sources/", public_page(views.SourceListView.as_view()), name="sources"),
    path("source/<uslug:slug>/", public_page(views.SourceView.as_view()), name="source"),
    path(
        "search/",
        public_page(views.search_results, parameters=views.SEARCH_PARAMETERS),
        name="search",
    ),
    *feed_paths("", feeds.PostFeed, "feed"),
    *feed_paths("corrections/", feeds.CorrectionFeed, "corrections_feed"),
    *feed_paths("category/<uslug:slug>/", feeds.CategoryFeed, "category_feed"),
    *feed_paths("tag/<uslug:slug>/", feeds.TagFeed, "tag_feed"),
    *feed_paths("source/<uslug:slug>/", feeds.SourceFeed, "source_feed"),
    *feed_paths("<yyyy:year>/<mm:month>/<uslug:slug>/", feeds.StoryFeed, "post_feed"),
    # For crawlers: robots.txt, the sitemap index and a sitemap for each section.
    path("robots.txt", public_page(sitemaps.robots_txt), name="robots_txt"),
    path("sitemap.xml", public_page(sitemaps.index), name="sitemap"),
    *(
        path(
            f"sitemap-{name}.xml",
            public_page(sitemaps.section),
            {"name": name},
            name=f"sitemap_{name}",
        )
        for name in sitemaps.SECTIONS
    ),
    # A draft for someone without an account: never public_page(), so never cached.
    path("preview/<str:token>/", preview.preview, name="preview"),
    # Last: any other address may be a flat page (/about/, /parent/child/).
    path("<path:url>", public_page(pages.static_page), name="page"),
]
