from django.urls import path, register_converter

from blog import feeds, views


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


register_converter(FourDigitYear, "yyyy")
register_converter(TwoDigitMonth, "mm")

app_name = "blog"
urlpatterns = [
    path("", views.PostListView.as_view(), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("<yyyy:year>/", views.PostYearArchiveView.as_view(), name="year"),
    path("<yyyy:year>/<mm:month>/", views.PostMonthArchiveView.as_view(), name="month"),
    path("<yyyy:year>/<mm:month>/<slug:slug>/", views.post_detail, name="post"),
    path("<yyyy:year>/<mm:month>/<slug:slug>/updates/", views.post_updates, name="post_updates"),
    path("corrections/", views.CorrectionListView.as_view(), name="corrections"),
    path("category/<slug:slug>/", views.CategoryView.as_view(), name="category"),
    path("tag/<slug:slug>/", views.TagView.as_view(), name="tag"),
    path("sources/", views.SourceListView.as_view(), name="sources"),
    path("source/<slug:slug>/", views.SourceView.as_view(), name="source"),
    # Feeds: RSS 2.0 at …/feed/, Atom 1.0 at …/feed/atom/ (WordPress's addresses).
    path("feed/", feeds.PostFeed(), name="feed"),
    path("feed/atom/", feeds.PostFeed.atom(), name="feed_atom"),
    path("corrections/feed/", feeds.CorrectionFeed(), name="corrections_feed"),
    path("corrections/feed/atom/", feeds.CorrectionFeed.atom(), name="corrections_feed_atom"),
    path("category/<slug:slug>/feed/", feeds.CategoryFeed(), name="category_feed"),
    path("category/<slug:slug>/feed/atom/", feeds.CategoryFeed.atom(), name="category_feed_atom"),
    path("tag/<slug:slug>/feed/", feeds.TagFeed(), name="tag_feed"),
    path("tag/<slug:slug>/feed/atom/", feeds.TagFeed.atom(), name="tag_feed_atom"),
    path("source/<slug:slug>/feed/", feeds.SourceFeed(), name="source_feed"),
    path("source/<slug:slug>/feed/atom/", feeds.SourceFeed.atom(), name="source_feed_atom"),
    path("<yyyy:year>/<mm:month>/<slug:slug>/feed/", feeds.StoryFeed(), name="post_feed"),
    path(
        "<yyyy:year>/<mm:month>/<slug:slug>/feed/atom/",
        feeds.StoryFeed.atom(),
        name="post_feed_atom",
    ),
]
