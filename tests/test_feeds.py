import threading
import xml.dom.minidom
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO
from urllib.parse import parse_qs

import feedparser
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from django.utils.http import http_date
from django_tasks_db.models import DBTaskResult

from blog.models import Post, Source, Update
from tests.factories import CategoryFactory, PostFactory, UpdateFactory, quoted

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    politics = CategoryFactory(name="Politics", slug="politics")
    post = PostFactory(
        title="Council split & vote <delayed>",
        slug="council-split",
        category=politics,
        excerpt="No camp has the votes.",
        published_at=timezone.now() - timedelta(hours=5),
        is_developing=True,
        tags=["budget", "council"],
        body="So says the Tribune:\n\n"
        + quoted("Nobody has the votes.", "— Dana Reyes, The Tribune"),
    )
    UpdateFactory(
        post=post,
        body="Vote set for Thursday.",
        published_at=post.published_at + timedelta(hours=1),
    )
    return post


def feed_urls(post):
    return [
        "/feed/",
        "/feed/atom/",
        "/category/politics/feed/",
        "/category/politics/feed/atom/",
        "/tag/budget/feed/",
        "/tag/budget/feed/atom/",
        "/source/dana-reyes/feed/",
        "/source/dana-reyes/feed/atom/",
        f"{post.get_absolute_url()}feed/",
        f"{post.get_absolute_url()}feed/atom/",
    ]


def fetch(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    xml.dom.minidom.parseString(response.content)  # strict: raises on any malformation
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, (url, parsed.get("bozo_exception"))
    return response, parsed


def test_every_feed_is_well_formed_and_typed(client, story):
    for url in feed_urls(story):
        response, parsed = fetch(client, url)
        expected = "atom" if url.endswith("atom/") else "rss20"
        assert parsed.version.startswith(expected), url
        assert response["Content-Type"].startswith(
            "application/atom+xml" if expected == "atom" else "application/rss+xml"
        )
        assert parsed.entries, url


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_site_feed_items_carry_full_content_author_categories_and_stable_ids(client, story, url):
    _, parsed = fetch(client, url)
    [entry] = parsed.entries
    assert entry.title == "Council split & vote <delayed>"
    assert entry.link == f"http://testserver{story.get_absolute_url()}"
    assert entry.id == story.guid and entry.id.startswith("tag:dateline.example,")
    assert entry.author == story.author.get_full_name()
    assert {tag.term for tag in entry.tags} == {"Politics", "budget", "council"}
    content = entry.content[0].value
    assert '<figure class="quote">' in content
    assert "Nobody has the votes." in content
    assert 'href="http://testserver/source/dana-reyes/"' in content  # absolute for readers
    assert "Vote set for Thursday." in content
    assert "No camp has the votes." in entry.summary
    published = datetime(*entry.published_parsed[:6], tzinfo=timezone.UTC)
    assert abs(published - story.published_at) < timedelta(seconds=1)


def test_rss_guid_is_not_a_permalink_and_survives_a_slug_change(client, story):
    response, _ = fetch(client, "/feed/")
    assert f'<guid isPermaLink="false">{story.guid}</guid>' in response.content.decode()
    story.slug = "renamed"
    story.save()
    _, parsed = fetch(client, "/feed/")
    assert parsed.entries[0].id == story.guid
    assert parsed.entries[0].link.endswith("/renamed/")


def test_new_update_marks_the_story_updated_but_a_typo_fix_does_not(client, story):
    _, before = fetch(client, "/feed/atom/")
    first_updated = before.entries[0].updated
    story.body += "\n\nFixed a typo."
    story.save()
    _, after_edit = fetch(client, "/feed/atom/")
    assert after_edit.entries[0].updated == first_updated
    UpdateFactory(post=story, kind="correction", body="We misnamed the clerk.")
    _, after_update = fetch(client, "/feed/atom/")
    assert after_update.entries[0].updated > first_updated
    assert after_update.entries[0].id == before.entries[0].id
    _, rss = fetch(client, "/feed/")
    assert rss.entries[0].summary.startswith("Corrected ")
    assert "We misnamed the clerk." in rss.entries[0].summary


def test_story_feed_has_one_item_per_update_newest_first(client, story):
    later = UpdateFactory(post=story, kind="correction", body="A correction.")
    _, parsed = fetch(client, f"{story.get_absolute_url()}feed/")
    first = story.updates.order_by("published_at").first()
    assert [e.id for e in parsed.entries] == [later.guid, first.guid]
    assert parsed.entries[0].title.startswith("Correction, ")
    assert parsed.entries[0].link.endswith(f"#update-{later.pk}")
    assert parsed.entries[0].content[0].value.startswith("<p>A correction.</p>")


def test_drafts_and_scheduled_posts_never_appear(client, story):
    PostFactory(
        title="Secret draft", status=Post.Status.DRAFT, published_at=None, category=story.category
    )
    PostFactory(
        title="Future post", published_at=timezone.now() + timedelta(hours=1), tags=["budget"]
    )
    for url in ["/feed/", "/feed/atom/", "/category/politics/feed/", "/tag/budget/feed/"]:
        body = client.get(url).content.decode()
        assert "Secret draft" not in body and "Future post" not in body


def test_number_of_items_is_a_setting(client, settings):
    for n in range(5):
        PostFactory(published_at=timezone.now() - timedelta(hours=n + 1))
    settings.DATELINE = {**settings.DATELINE, "FEED_ITEMS": 3}
    assert len(fetch(client, "/feed/")[1].entries) == 3
    settings.DATELINE = {**settings.DATELINE, "FEED_ITEMS": 20}
    cache.clear()  # a changed setting means a restart; the page cache knows nothing of it
    assert len(fetch(client, "/feed/")[1].entries) == 5


@pytest.mark.parametrize(
    "url", ["/category/nope/feed/", "/tag/nope/feed/", "/source/nope/feed/", "/2026/01/nope/feed/"]
)
def test_unknown_feeds_are_404(client, url):
    assert client.get(url).status_code == 404


def test_story_feed_under_the_wrong_month_is_404(client, story):
    when = timezone.localtime(story.published_at) + timedelta(days=40)
    assert client.get(f"/{when:%Y/%m}/council-split/feed/").status_code == 404


BAD = "bad\x00char\x0bs\x1fhere\ufffe and \ud800 lone"


def test_characters_xml_cannot_carry_are_dropped_when_saved(client):
    post = PostFactory(
        title=f"Title {BAD}",
        body=f"Body {BAD}\n\n" + quoted(f"Quote {BAD}", f"— Name {BAD}, Outlet {BAD}"),
        tags=["budget"],
    )
    UpdateFactory(post=post, body=f"Update {BAD}")
    assert "\x00" not in Post.objects.get(pk=post.pk).title
    urls = ["/feed/", "/feed/atom/", f"/category/{post.category.slug}/feed/", "/tag/budget/feed/"]
    urls += [f"{post.get_absolute_url()}feed/", f"{post.get_absolute_url()}feed/atom/"]
    for url in urls:
        response, _ = fetch(client, url)
        assert "badcharshere" in response.content.decode()


def test_feeds_parse_even_if_bad_characters_reach_the_database(client):
    # Rows written around save() (imports, bulk loads) must not break feeds either.
    post = PostFactory(body=quoted("Quote.", "— Dana Reyes"), tags=["budget"])
    update = UpdateFactory(post=post)
    bad = "vertical\x0btab\x1funit\ufffe"
    Post.objects.filter(pk=post.pk).update(
        title=f"T {bad}", body_html=f"<p>B {bad}</p>", excerpt=bad
    )
    Update.objects.filter(pk=update.pk).update(body_html=f"<p>U {bad}</p>")
    Source.objects.filter(name="Dana Reyes").update(name=f"Dana {bad}")
    for url in [
        "/feed/",
        "/feed/atom/",
        "/source/dana-reyes/feed/",
        f"{post.get_absolute_url()}feed/",
    ]:
        response, parsed = fetch(client, url)
        assert "verticaltabunit" in response.content.decode()


# --- Conditional GET ------------------------------------------------------------------


def test_matching_etag_gets_304_without_rendering(client, story, django_assert_max_num_queries):
    response = client.get("/feed/")
    assert response["ETag"] and response["Last-Modified"]
    assert "public" in response["Cache-Control"] and "max-age=" in response["Cache-Control"]
    with django_assert_max_num_queries(2):
        again = client.get("/feed/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == response["ETag"]


def test_if_modified_since_gets_304(client, story):
    response = client.get("/feed/atom/")
    again = client.get("/feed/atom/", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert again.status_code == 304
    earlier = http_date(
        (parsedate_to_datetime(response["Last-Modified"]) - timedelta(hours=1)).timestamp()
    )
    assert client.get("/feed/atom/", HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


@pytest.mark.parametrize("url", ["/feed/", "/category/politics/feed/", "STORY"])
def test_new_update_gives_200_with_a_new_etag(client, story, url):
    url = f"{story.get_absolute_url()}feed/" if url == "STORY" else url
    etag = client.get(url)["ETag"]
    UpdateFactory(post=story, body="Breaking: the vote is back on.")
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert b"Breaking: the vote is back on." in response.content


def test_editing_or_deleting_an_update_changes_the_etag(client, story):
    etag = client.get("/feed/")["ETag"]
    update = story.updates.get()
    update.body = "Vote set for Friday."
    update.save()
    edited = client.get("/feed/", HTTP_IF_NONE_MATCH=etag)
    assert edited.status_code == 200 and b"Vote set for Friday." in edited.content
    update.delete()
    assert client.get("/feed/", HTTP_IF_NONE_MATCH=edited["ETag"]).status_code == 200


# --- Autodiscovery -----------------------------------------------------------------


def test_every_page_links_the_site_feed_and_scoped_pages_their_own(client, story):
    home = client.get("/").content.decode()
    assert 'rel="alternate" type="application/rss+xml" title="Dateline (RSS)" href="/feed/"' in home
    assert 'type="application/atom+xml"' in home and 'href="/feed/atom/"' in home
    for page, feed in [
        ("/category/politics/", "/category/politics/feed/"),
        ("/tag/budget/", "/tag/budget/feed/"),
        ("/source/dana-reyes/", "/source/dana-reyes/feed/"),
        (story.get_absolute_url(), f"{story.get_absolute_url()}feed/"),
    ]:
        html = client.get(page).content.decode()
        assert 'type="application/rss+xml" title="' in html
        assert f'href="{feed}"' in html
        assert f"<code>http://testserver{feed}</code>" in html  # the visible Subscribe link
        assert "Subscribe" in html


# --- WebSub -------------------------------------------------------------------------


class Hub:
    """A real HTTP server on 127.0.0.1 that records WebSub publish pings."""

    def __init__(self, status=204):
        self.pings = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                hub.pings.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def run_worker():
    call_command(
        "db_worker",
        "--batch",
        "--no-startup-delay",
        "--no-reload",
        stdout=StringIO(),
        stderr=StringIO(),
    )


@pytest.fixture
def with_hub(settings):
    def configure(url):
        settings.DATELINE = {
            **settings.DATELINE,
            "WEBSUB_HUB": url,
            "SITE_URL": "https://news.example",
        }

    return configure


def test_feeds_advertise_the_hub(client, story, with_hub):
    with_hub("https://hub.example/")
    assert (
        '<atom:link href="https://hub.example/" rel="hub"' in client.get("/feed/").content.decode()
    )
    assert (
        '<link href="https://hub.example/" rel="hub"' in client.get("/feed/atom/").content.decode()
    )


# These commit for real (transactional_db): the ping is queued when the save commits, and
# the worker, like in production, runs on its own database connection state.


def test_publishing_pings_the_hub_in_the_background(transactional_db, with_hub):
    with Hub() as hub:
        with_hub(hub.url)
        category = CategoryFactory(slug="politics")
        post = PostFactory(category=category, slug="pinged", body=quoted("Q.", "— Dana Reyes"))
        assert hub.pings == []  # nothing was sent during the save itself
        assert DBTaskResult.objects.count() == 1
        run_worker()
        urls = {ping["hub.url"][0] for ping in hub.pings}
        assert {ping["hub.mode"][0] for ping in hub.pings} == {"publish"}
        assert "https://news.example/feed/" in urls
        assert "https://news.example/feed/atom/" in urls
        assert "https://news.example/category/politics/feed/" in urls
        assert "https://news.example/source/dana-reyes/feed/" in urls
        assert f"https://news.example{post.get_absolute_url()}feed/" in urls

        hub.pings.clear()
        UpdateFactory(post=post)
        run_worker()
        assert f"https://news.example{post.get_absolute_url()}feed/" in {
            ping["hub.url"][0] for ping in hub.pings
        }


def test_drafts_do_not_ping(transactional_db, with_hub):
    with Hub() as hub:
        with_hub(hub.url)
        PostFactory(status=Post.Status.DRAFT, published_at=None)
        assert not DBTaskResult.objects.exists()
        run_worker()
        assert hub.pings == []


@pytest.mark.parametrize("hub_status", [500, None], ids=["hub-error", "hub-down"])
def test_a_failing_hub_does_not_break_publishing(
    transactional_db, staff_client, with_hub, hub_status
):
    if hub_status is None:
        with Hub() as dead:
            url = dead.url  # the port is closed once the server stops
    with Hub(status=hub_status or 500) as hub:
        with_hub(url if hub_status is None else hub.url)
        post = PostFactory(status=Post.Status.DRAFT, published_at=None)
        response = staff_client.post(
            "/admin/blog/post/", {"action": "publish", "_selected_action": [post.pk]}
        )
        assert response.status_code == 302
        run_worker()  # the failure is logged by the worker, not raised
        if hub_status:
            assert hub.pings  # it was tried
    post.refresh_from_db()
    assert post.is_published
    staff_client.logout()
    assert staff_client.get(post.get_absolute_url()).status_code == 200
