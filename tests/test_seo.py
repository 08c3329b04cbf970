"""What crawlers and share previews read: sitemaps, robots.txt, and every page's <head>."""

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from io import BytesIO
from xml.etree import ElementTree

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from blog.models import Post
from blog.sitemaps import PostSitemap
from tests.factories import (
    CategoryFactory,
    PostFactory,
    SourceFactory,
    UpdateFactory,
    quoted,
)

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
# W3C Datetime, to the second, with a time zone: 2026-03-14T09:30:00-04:00.
W3C = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")


@pytest.fixture
def story():
    """A published post in Politics › City Hall, tagged, quoting two sources, updated."""
    politics = CategoryFactory(name="Politics", slug="politics")
    city = CategoryFactory(name="City Hall", slug="city-hall", parent=politics)
    post = PostFactory(
        title="Council split, vote delayed",
        slug="council-split",
        category=city,
        tags=["budget", "council"],
        excerpt="Three factions, no majority.",
        is_developing=True,
        published_at=timezone.now() - timedelta(hours=3),
        body="\n\n".join(
            [
                "So says the Tribune's city-hall reporter:",
                quoted("Nobody has the votes.", "— Dana Reyes, The Tribune"),
                "More as it develops…",
            ]
        ),
    )
    UpdateFactory(post=post, body="Vote moved to Thursday.", published_at=timezone.now())
    return post


def xml_of(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    return ElementTree.fromstring(response.content)  # raises unless well-formed


def urlset(client, url):
    """{loc: lastmod} of a sitemap."""
    root = xml_of(client.get(url))
    assert root.tag == f"{SITEMAP}urlset"
    return {
        entry.findtext(f"{SITEMAP}loc"): entry.findtext(f"{SITEMAP}lastmod")
        for entry in root.iter(f"{SITEMAP}url")
    }


def index(client):
    """[(loc, lastmod)] of the sitemap index."""
    root = xml_of(client.get("/sitemap.xml"))
    assert root.tag == f"{SITEMAP}sitemapindex"
    return [
        (entry.findtext(f"{SITEMAP}loc"), entry.findtext(f"{SITEMAP}lastmod"))
        for entry in root.iter(f"{SITEMAP}sitemap")
    ]


def every_listed_address(client):
    found = {}
    for sitemap, _ in index(client):
        path = sitemap.removeprefix("http://testserver")
        if not path.startswith("/sitemap-news.xml"):
            found.update(urlset(client, path))
    return found


# --- Sitemaps ------------------------------------------------------------------------------


def test_the_index_lists_every_section_on_the_requests_host(client, story):
    entries = index(client)
    assert [loc for loc, _ in entries] == [
        f"http://testserver/sitemap-{name}.xml"
        for name in ("pages", "posts", "categories", "tags", "sources", "news")
    ]
    dated = {loc.split("-")[1].removesuffix(".xml") for loc, lastmod in entries if lastmod}
    assert dated == {"posts", "categories", "sources", "news"}
    assert all(W3C.fullmatch(lastmod) for _, lastmod in entries if lastmod)
    response = client.get("/sitemap.xml")
    assert response["X-Robots-Tag"] == "noindex"


def test_the_sitemaps_list_every_public_page_with_absolute_addresses(client, story):
    PostFactory(title="Draft", slug="draft", status=Post.Status.DRAFT, published_at=None)
    PostFactory(slug="scheduled", published_at=timezone.now() + timedelta(days=1))
    about = FlatPage.objects.create(url="/about/", title="About", content="<p>Us.</p>")
    staff = FlatPage.objects.create(url="/desk/", title="Desk", registration_required=True)
    for page in (about, staff):
        page.sites.add(django_settings.SITE_ID)
    SourceFactory(name="Never Quoted", slug="never-quoted")
    CategoryFactory(name="Empty", slug="empty")

    listed = every_listed_address(client)
    base = "http://testserver"
    assert set(listed) == {
        f"{base}/",
        f"{base}/sources/",
        f"{base}/corrections/",
        f"{base}/about/",
        f"{base}{story.get_absolute_url()}",
        # A section's page lists its subsections' posts: both are listed.
        f"{base}/category/politics/",
        f"{base}/category/city-hall/",
        f"{base}/tag/budget/",
        f"{base}/tag/council/",
        f"{base}/source/dana-reyes/",
    }
    for loc, lastmod in listed.items():
        assert lastmod is None or W3C.fullmatch(lastmod), (loc, lastmod)
        assert client.get(loc.removeprefix(base)).status_code == 200, loc


def test_a_posts_lastmod_moves_when_an_update_is_added(client, story):
    loc = f"http://testserver{story.get_absolute_url()}"
    before = urlset(client, "/sitemap-posts.xml")[loc]
    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        update = UpdateFactory(post=story, body="The vote is on.")
        after = urlset(client, "/sitemap-posts.xml")[loc]
        [(_, index_lastmod)] = [entry for entry in index(client) if "posts" in entry[0]]
    assert after != before
    assert datetime.fromisoformat(after) == update.published_at.replace(microsecond=0)
    assert index_lastmod == after


def test_an_update_dated_ahead_moves_lastmod_only_when_it_falls_due(client, story):
    loc = f"http://testserver{story.get_absolute_url()}"
    before = urlset(client, "/sitemap-posts.xml")[loc]
    due = timezone.now() + timedelta(hours=2)
    UpdateFactory(post=story, published_at=due)
    assert urlset(client, "/sitemap-posts.xml")[loc] == before
    with time_machine.travel(due + timedelta(minutes=1)):
        assert datetime.fromisoformat(urlset(client, "/sitemap-posts.xml")[loc]) == due.replace(
            microsecond=0
        )


def test_a_post_edit_moves_lastmod(client, story):
    loc = f"http://testserver{story.get_absolute_url()}"
    before = urlset(client, "/sitemap-posts.xml")[loc]
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        story.body += "\n\nA paragraph more."
        story.save()
        assert urlset(client, "/sitemap-posts.xml")[loc] != before


def test_the_news_sitemap_lists_only_the_last_two_days(client):
    now = timezone.now()
    fresh = PostFactory(title="Fresh & <new>", published_at=now - timedelta(hours=1))
    edge = PostFactory(title="Two days less a minute", published_at=now - timedelta(hours=47))
    PostFactory(title="Three days old", published_at=now - timedelta(days=3))
    PostFactory(title="Scheduled", published_at=now + timedelta(hours=1))
    PostFactory(title="Draft", status=Post.Status.DRAFT, published_at=None)

    response = client.get("/sitemap-news.xml")
    root = xml_of(response)
    entries = {
        url.findtext(f"{SITEMAP}loc"): url.find(f"{NEWS}news") for url in root.iter(f"{SITEMAP}url")
    }
    assert list(entries) == [
        f"http://testserver{fresh.get_absolute_url()}",
        f"http://testserver{edge.get_absolute_url()}",
    ]
    news = entries[f"http://testserver{fresh.get_absolute_url()}"]
    assert news.findtext(f"{NEWS}publication/{NEWS}name") == "Dateline"
    assert news.findtext(f"{NEWS}publication/{NEWS}language") == "en"
    assert news.findtext(f"{NEWS}title") == "Fresh & <new>"
    published = news.findtext(f"{NEWS}publication_date")
    assert W3C.fullmatch(published)
    assert datetime.fromisoformat(published) == fresh.published_at.replace(microsecond=0)


def test_the_news_sitemap_is_left_out_of_the_index_when_nothing_is_new(client):
    PostFactory(published_at=timezone.now() - timedelta(days=5))
    assert "http://testserver/sitemap-news.xml" not in [loc for loc, _ in index(client)]
    assert list(xml_of(client.get("/sitemap-news.xml"))) == []


def test_a_section_past_its_limit_is_paginated(client, monkeypatch):
    monkeypatch.setattr(PostSitemap, "limit", 2)
    posts = [PostFactory(published_at=timezone.now() - timedelta(days=n + 1)) for n in range(5)]
    pages = [loc for loc, _ in index(client) if "/sitemap-posts.xml" in loc]
    assert pages == [
        "http://testserver/sitemap-posts.xml",
        "http://testserver/sitemap-posts.xml?page=2",
        "http://testserver/sitemap-posts.xml?page=3",
    ]
    found = [urlset(client, page.removeprefix("http://testserver")) for page in pages]
    assert [len(page) for page in found] == [2, 2, 1]
    # Oldest first: a page keeps its posts as new ones are published.
    assert list(found[0]) == [f"http://testserver{p.get_absolute_url()}" for p in posts[:-3:-1]]
    listed = {loc for page in found for loc in page}
    assert listed == {f"http://testserver{post.get_absolute_url()}" for post in posts}
    for bad in ("4", "0", "-1", "abc", "1.5", "99999999999999999999", "%00"):
        assert client.get(f"/sitemap-posts.xml?page={bad}").status_code == 404, bad


def test_sitemaps_and_robots_never_name_the_site_rows_domain(client, story):
    Site.objects.filter(pk=django_settings.SITE_ID).update(domain="example.com")
    addresses = [
        "/robots.txt",
        "/sitemap.xml",
        *(f"/sitemap-{name}.xml" for name in ("pages", "posts", "tags", "sources", "news")),
    ]
    for url in addresses:
        text = client.get(url).content.decode()
        assert "example.com" not in text, url
        assert "http://testserver/" in text, url
    # Another host, over HTTPS (behind a proxy): its own addresses, not a cached copy of
    # the first host's.
    for url in addresses:
        response = client.get(url, HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")
        text = response.content.decode()
        assert "https://localhost/" in text and "testserver" not in text, url


def test_a_unicode_address_is_listed_percent_encoded(client):
    section = CategoryFactory(name="Ειδήσεις", slug="ειδήσεις")
    post = PostFactory(slug="αθήνα-notebook", category=section)
    listed = every_listed_address(client)
    assert f"http://testserver{post.get_absolute_url()}" in listed
    assert "http://testserver/category/%CE%B5%CE%B9%CE%B4%CE%AE%CF%83%CE%B5%CE%B9%CF%82/" in listed
    assert all(loc.isascii() for loc in listed)


def test_listed_addresses_are_the_posts_own_at_a_month_boundary(client):
    # 02:30 UTC on 1 March is still February in New York: the address says 02.
    turn = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    posts = [
        PostFactory(slug="late-february", published_at=turn),
        PostFactory(slug="early-march", published_at=turn + timedelta(hours=6)),
        PostFactory(slug="καλημέρα-ελλάδα", published_at=turn - timedelta(days=40)),
    ]
    listed = urlset(client, "/sitemap-posts.xml")
    assert list(listed) == [
        f"http://testserver{post.get_absolute_url()}" for post in (posts[2], posts[0], posts[1])
    ]
    assert "/2026/02/late-february/" in posts[0].get_absolute_url()


def test_the_sitemap_is_cached_and_stale_at_once_after_a_change(
    client, story, django_assert_num_queries
):
    first = client.get("/sitemap-posts.xml")
    assert first.has_header("ETag") and "public" in first["Cache-Control"]
    with django_assert_num_queries(0):
        again = client.get("/sitemap-posts.xml")
    assert again.content == first.content
    assert client.get("/sitemap-posts.xml", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    newer = PostFactory(slug="newer")
    assert f"http://testserver{newer.get_absolute_url()}" in urlset(client, "/sitemap-posts.xml")
    response = client.get("/sitemap-posts.xml", HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 200


def test_sitemaps_are_read_only(client, story):
    for url in ("/sitemap.xml", "/sitemap-posts.xml", "/robots.txt"):
        response = client.post(url)
        assert (response.status_code, response["Allow"]) == (405, "GET, HEAD"), url


# --- robots.txt ----------------------------------------------------------------------------


def test_robots_txt_allows_the_site_and_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = [line.split(": ", 1)[1] for line in lines if line.startswith("Disallow:")]
    assert disallowed == ["/admin/", "/search/", "/?s=", "/preview/"]
    assert "Disallow: /" not in lines  # everything else may be crawled
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert response.has_header("ETag")


def test_robots_txt_keeps_a_moved_admin_secret(client, settings):
    settings.ADMIN_URL = "desk-7f3a/"
    text = client.get("/robots.txt").content.decode()
    assert "desk-7f3a" not in text and "admin" not in text
    assert "Disallow: /search/" in text


# --- <head> of every page --------------------------------------------------------------------


class Head(HTMLParser):
    """The <head>'s title, <meta>s, <link>s and scripts, as a crawler reads them."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.title, self.meta, self.links, self.scripts = "", {}, {}, []
        self._in, self._done = None, False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if self._done:
            return
        attrs = dict(attrs)
        if tag == "meta" and ("name" in attrs or "property" in attrs):
            key = attrs.get("property") or attrs.get("name")
            self.meta.setdefault(key, []).append(attrs.get("content"))
        elif tag == "link":
            self.links.setdefault(attrs.get("rel"), []).append(attrs.get("href"))
        elif tag in ("title", "script"):
            self._in = tag
            if tag == "script":
                self.scripts.append({**attrs, "text": ""})

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "script":
            self.scripts[-1]["text"] += data

    def handle_endtag(self, tag):
        if tag == "head":
            self._done = True
        self._in = None

    def one(self, key):
        values = self.meta.get(key, [])
        assert len(values) == 1, (key, values)
        return values[0]

    def link(self, rel):
        values = self.links.get(rel, [])
        assert len(values) <= 1, (rel, values)
        return values[0] if values else None

    def json_ld(self):
        return [
            json.loads(s["text"]) for s in self.scripts if s.get("type") == "application/ld+json"
        ]


def head_of(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return Head(response.content.decode())


@pytest.fixture
def site(story):
    about = FlatPage.objects.create(url="/about/", title="About us", content="<p>Who we are.</p>")
    about.sites.add(django_settings.SITE_ID)
    when = timezone.localtime(story.published_at)
    return {
        "home": "/",
        "post": story.get_absolute_url(),
        "year": f"/{when:%Y}/",
        "month": f"/{when:%Y/%m}/",
        "category": "/category/politics/",
        "tag": "/tag/budget/",
        "sources": "/sources/",
        "source": "/source/dana-reyes/",
        "corrections": "/corrections/",
        "flat page": "/about/",
        "search": "/search/?q=council",
    }


PAGE_TYPES = [
    "home",
    "post",
    "year",
    "month",
    "category",
    "tag",
    "sources",
    "source",
    "corrections",
    "flat page",
    "search",
    "404",
]


@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_every_page_type_carries_canonical_description_open_graph_and_twitter_tags(
    client, site, kind
):
    url = site.get(kind, "/no-such-page/")
    head = head_of(client, url, status=404 if kind == "404" else 200)

    assert head.title.strip()
    description = head.one("description")
    assert description and description.strip() == description
    canonical = head.link("canonical")
    # A search's address keeps its query: what it shows depends on it (it is noindex).
    assert canonical == f"http://testserver{url}"
    assert head.one("og:url") == canonical
    assert head.one("og:site_name") == "Dateline"
    assert head.one("og:type") == ("article" if kind == "post" else "website")
    assert head.one("og:title")
    assert head.one("og:description") == description
    image = head.one("og:image")
    assert image.startswith("http://testserver/")
    assert (head.one("og:image:width"), head.one("og:image:height")) == ("1200", "630")
    assert head.one("og:image:type") in ("image/png", "image/jpeg")
    assert head.one("og:image:alt")
    assert head.one("twitter:card") == "summary_large_image"
    assert head.one("twitter:image") == image
    assert head.one("twitter:title") == head.one("og:title")
    assert "example.com" not in str(head.meta) + str(head.links)


def fetched_image(client, url):
    assert url.startswith("http://testserver/"), url
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, url
    content = b"".join(response.streaming_content if response.streaming else [response.content])
    return Image.open(BytesIO(content))


def test_a_post_is_shared_with_its_share_card_and_the_home_page_with_the_sites_picture(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post = PostFactory(title="Council split, vote delayed")
    head = head_of(client, post.get_absolute_url())
    card = head.one("og:image")
    assert re.fullmatch(rf"http://testserver/media/cards/{post.pk}/\w+\.png", card)
    assert head.one("twitter:image") == card
    assert head.one("og:image:alt") == post.title
    assert head.one("og:image:type") == "image/png"
    [data] = head.json_ld()
    assert data["image"] == [card]
    image = fetched_image(client, card)
    assert (image.format, image.size) == ("PNG", (1200, 630))

    site = head_of(client, "/").one("og:image")
    assert site == "http://testserver/static/img/share.png" != card
    assert fetched_image(client, site).size == (1200, 630)


def test_a_post_with_a_lead_image_is_shared_with_its_1200_by_630_crop(
    client, django_capture_on_commit_callbacks
):
    post = PostFactory(image_alt="The council chamber, half empty")
    picture = BytesIO()
    Image.linear_gradient("L").resize((900, 1600)).convert("RGB").save(picture, "JPEG")
    with django_capture_on_commit_callbacks(execute=True):
        post.image.save("chamber.jpg", ContentFile(picture.getvalue()))
    head = head_of(client, post.get_absolute_url())
    shared = head.one("og:image")
    assert shared.endswith("-1200x630.jpg")
    assert head.one("og:image:alt") == "The council chamber, half empty"
    assert head.one("og:image:type") == "image/jpeg"
    image = fetched_image(client, shared)
    assert (image.format, image.size) == ("JPEG", (1200, 630))


def test_the_canonical_address_drops_tracking_parameters_and_keeps_the_page(client):
    for n in range(25):
        PostFactory(published_at=timezone.now() - timedelta(hours=n + 1))
    first = head_of(client, "/?utm_source=newsletter&fbclid=abc")
    assert first.link("canonical") == "http://testserver/"
    # Search's own parameters choose nothing on the home page.
    assert head_of(client, "/?q=levy&tag=x&year=2020").link("canonical") == "http://testserver/"
    assert first.link("prev") is None
    assert first.link("next") == "http://testserver/?page=2"
    assert head_of(client, "/?page=1").link("canonical") == "http://testserver/"

    second = head_of(client, "/?page=2&utm_campaign=x")
    assert second.link("canonical") == "http://testserver/?page=2"
    assert second.one("og:url") == "http://testserver/?page=2"
    assert second.link("prev") == "http://testserver/"
    assert second.link("next") == "http://testserver/?page=3"

    last = head_of(client, "/?page=3")
    assert last.link("prev") == "http://testserver/?page=2"
    assert last.link("next") is None


@pytest.mark.parametrize("kind", ["category", "tag", "year", "month", "corrections", "source"])
def test_paginated_lists_link_their_neighbours(client, kind):
    section = CategoryFactory(name="Politics", slug="politics")
    # January, far enough back for the year's posts to stay in one year and one month.
    start = timezone.make_aware(datetime(timezone.now().year - 1, 1, 20, 12))
    for n in range(45):
        post = PostFactory(
            category=section,
            tags=["budget"],
            published_at=start - timedelta(hours=n),
            body=quoted(f"Quote {n}.", "— Dana Reyes"),
        )
        UpdateFactory(post=post, kind="correction", published_at=post.published_at)
    url = {
        "category": "/category/politics/",
        "tag": "/tag/budget/",
        "year": f"/{start:%Y}/",
        "month": f"/{start:%Y/%m}/",
        "corrections": "/corrections/",
        "source": "/source/dana-reyes/",
    }[kind]
    first = head_of(client, url)
    assert first.link("prev") is None
    assert first.link("next") == f"http://testserver{url}?page=2"
    second = head_of(client, f"{url}?page=2")
    assert second.link("canonical") == f"http://testserver{url}?page=2"
    assert second.link("prev") == f"http://testserver{url}"
    assert second.link("next") == f"http://testserver{url}?page=3"


def test_a_post_carries_its_article_properties(client, story):
    head = head_of(client, story.get_absolute_url())
    assert head.one("og:title") == story.title
    assert head.one("og:description") == story.excerpt
    published = head.one("article:published_time")
    assert datetime.fromisoformat(published) == story.published_at.replace(microsecond=0)
    update = story.updates.get()
    modified = head.one("article:modified_time")
    assert datetime.fromisoformat(modified) == update.published_at.replace(microsecond=0)
    assert head.one("article:section") == "City Hall"
    assert sorted(head.meta["article:tag"]) == ["budget", "council"]

    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        newer = UpdateFactory(post=story, body="Vote is on.")
        modified = head_of(client, story.get_absolute_url()).one("article:modified_time")
    assert datetime.fromisoformat(modified) == newer.published_at.replace(microsecond=0)


def test_a_posts_json_ld_names_author_dates_image_and_publisher(client, story):
    [data] = head_of(client, story.get_absolute_url()).json_ld()
    assert data["@type"] == "LiveBlogPosting"
    assert data["headline"] == story.title
    assert data["author"] == {"@type": "Person", "name": "Maria " + story.author.last_name}
    published = datetime.fromisoformat(data["datePublished"])
    assert abs(published - story.published_at) < timedelta(milliseconds=1)
    assert data["dateModified"]
    assert data["image"] and all(url.startswith("http://testserver/") for url in data["image"])
    assert data["publisher"]["name"] == "Dateline"
    assert data["publisher"]["logo"]["url"] == "http://testserver/static/img/logo.png"
    assert data["mainEntityOfPage"] == f"http://testserver{story.get_absolute_url()}"
    assert data["description"] == story.excerpt


def test_a_title_cannot_break_out_of_the_head(client):
    title = '</script><script>alert(1)</script>"><meta name="robots" content="noindex">'
    post = PostFactory(title=title, excerpt='"><b>', tags=['"><i>'])
    response = client.get(post.get_absolute_url())
    head = Head(response.content.decode())
    assert head.meta.get("robots") is None
    assert head.one("og:title") == title
    assert head.one("og:description") == '"><b>'
    assert head.meta["article:tag"] == ['"><i>']
    # One JSON-LD script, whole, and nothing but our own scripts.
    [data] = head.json_ld()
    assert data["headline"] == title
    assert all(s.get("src") or s.get("type") == "application/ld+json" for s in head.scripts)


def test_the_home_page_names_the_organization_and_the_website(client):
    [data] = head_of(client, "/").json_ld()
    kinds = {node["@type"]: node for node in data["@graph"]}
    organization, website = kinds["Organization"], kinds["WebSite"]
    assert organization["name"] == "Dateline"
    assert organization["url"] == "http://testserver/"
    assert organization["logo"]["url"] == "http://testserver/static/img/logo.png"
    assert client.get("/static/img/logo.png").status_code == 200
    assert website["url"] == "http://testserver/"
    assert website["publisher"] == {"@id": organization["@id"]}
    # Where a search engine may send a reader's query: the search page.
    template = website["potentialAction"]["target"]["urlTemplate"]
    assert template == "http://testserver/search/?q={query}"
    search = client.get(template.format(query="budget").removeprefix("http://testserver"))
    assert search.status_code == 200


def test_json_ld_carries_this_answers_nonce_from_the_cache(client, story):
    for url in ("/", story.get_absolute_url()):
        for _ in range(2):  # rendered, then from the page cache
            response = client.get(url)
            [script] = [s for s in Head(response.content.decode()).scripts if "nonce" in s]
            assert f"'nonce-{script['nonce']}'" in response["Content-Security-Policy"]


def test_a_draft_previewed_by_staff_is_noindex(staff_client):
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None)
    head = head_of(staff_client, draft.get_absolute_url())
    assert head.one("robots") == "noindex"
    assert "article:published_time" not in head.meta
    assert head.one("og:type") == "article"
