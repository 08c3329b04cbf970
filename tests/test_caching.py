"""The page cache: served from the shared cache, validators everywhere, stale at once."""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import timezone
from taggit.models import Tag

from blog.caching import PageCacheMiddleware, current_version, public_page
from blog.models import Category, Post, Source, Update
from tests.factories import CategoryFactory, PostFactory, UpdateFactory, quoted

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    politics = CategoryFactory(name="Politics", slug="politics")
    post = PostFactory(
        title="Council split",
        slug="council-split",
        category=politics,
        tags=["budget"],
        is_developing=True,
        body=quoted("Nobody has the votes.", "— Dana Reyes, The Tribune"),
        published_at=timezone.now() - timedelta(days=2),
    )
    UpdateFactory(post=post, body="Vote moved to Thursday.")
    return post


def public_urls(post):
    url = post.get_absolute_url()
    when = timezone.localtime(post.published_at)
    return [
        "/",
        url,
        f"/{when:%Y}/",
        f"/{when:%Y/%m}/",
        "/category/politics/",
        "/tag/budget/",
        "/sources/",
        "/source/dana-reyes/",
        "/corrections/",
        "/feed/",
        "/feed/atom/",
        "/category/politics/feed/",
        "/tag/budget/feed/",
        "/source/dana-reyes/feed/",
        f"{url}feed/",
    ]


# --- Served from the cache, with validators -------------------------------------------


def test_every_public_page_and_feed_is_served_from_the_cache(
    client, story, django_assert_num_queries
):
    for url in public_urls(story):
        first = client.get(url)
        assert first.status_code == 200, url
        with django_assert_num_queries(0):
            again = client.get(url)
        assert again.status_code == 200
        # The same page, but for the CSP nonce: each answer gets its own.
        assert without_nonce(again) == without_nonce(first), url
        assert again["Content-Type"] == first["Content-Type"]


def nonces(response):
    return re.findall(rb'nonce="([^"]+)"', response.content)


def without_nonce(response):
    return re.sub(rb'nonce="[^"]*"', b'nonce=""', response.content)


def test_a_cached_page_gets_a_fresh_csp_nonce_that_its_header_allows(client, story):
    url = story.get_absolute_url()
    answers = [client.get(url) for _ in range(3)]  # rendered, then twice from the cache
    seen = set()
    for response in answers:
        [nonce] = set(nonces(response))  # the JSON-LD block
        assert f"'nonce-{nonce.decode()}'" in response["Content-Security-Policy"]
        seen.add(nonce)
    assert len(seen) == 3
    assert b"<!csp-nonce>" not in answers[-1].content


def test_every_public_page_and_feed_carries_validators_for_shared_caches(client, story):
    for url in public_urls(story):
        response = client.get(url)
        assert response["ETag"].startswith('"'), url
        assert response["Last-Modified"], url
        directives = {d.strip().split("=")[0] for d in response["Cache-Control"].split(",")}
        assert {"public", "max-age", "s-maxage", "stale-while-revalidate"} <= directives, url
        assert "Cookie" in response["Vary"]


def test_matching_etag_is_a_304_that_renders_nothing(client, story, django_assert_num_queries):
    for url in public_urls(story):
        etag = client.get(url)["ETag"]
        with django_assert_num_queries(0):
            response = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304, url
        assert response.content == b""
        assert response["ETag"] == etag


def test_304_needs_no_render_even_with_the_page_cache_off(
    client, story, settings, django_assert_num_queries
):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": 0}
    url = story.get_absolute_url()
    etag = client.get(url)["ETag"]
    with django_assert_num_queries(0):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_if_modified_since_is_a_304_until_something_changes(client, story):
    last_modified = client.get("/")["Last-Modified"]
    assert client.get("/", HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        PostFactory(title="A newer piece")
        response = client.get("/", HTTP_IF_MODIFIED_SINCE=last_modified)
    assert response.status_code == 200
    assert "A newer piece" in response.content.decode()


def test_page_cache_off_renders_every_time(client, story, settings):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": 0}
    client.get("/")
    assert not any(key for key in cache._cache if "page:" in key)
    Post.objects.filter(pk=story.pk).update(title="Changed")
    assert "Changed" in client.get("/").content.decode()


def test_query_parameters_the_page_ignores_share_its_cache_entry(
    client, story, django_assert_num_queries
):
    client.get("/")
    client.get(story.get_absolute_url())
    with django_assert_num_queries(0):
        assert client.get("/?utm_source=newsletter&fbclid=x").status_code == 200
        # Search's parameters too: only the search page reads them, so random values on
        # another page cannot fill the cache with copies of it.
        assert client.get("/?q=random-1&year=1999&tag=x").status_code == 200
        assert client.get(f"{story.get_absolute_url()}?q=random-2").status_code == 200


def test_a_search_page_is_kept_per_query(client, story, django_assert_max_num_queries):
    client.get("/search/?q=levy")
    with django_assert_max_num_queries(0):
        client.get("/search/?q=levy&utm_source=x")
    fresh = client.get("/search/?q=budget")  # another query: rendered, not the levy page
    assert 'value="budget"' in fresh.content.decode()


def test_unknown_pages_are_404s_and_not_cached(client, story):
    assert client.get("/category/nope/").status_code == 404
    CategoryFactory(slug="nope", name="Nope")
    assert client.get("/category/nope/").status_code == 200


# --- Never cached ---------------------------------------------------------------------


def test_staff_are_never_served_from_the_cache_nor_fill_it(staff_client, story):
    client = Client()  # anonymous, beside the logged-in staff_client
    anonymous = client.get(story.get_absolute_url())
    staff = staff_client.get(story.get_absolute_url())
    assert "Add an update" in staff.content.decode()
    assert "Add an update" not in anonymous.content.decode()
    assert "private" in staff["Cache-Control"] and "public" not in staff["Cache-Control"]
    draft = PostFactory(title="Unpublished draft", status=Post.Status.DRAFT, published_at=None)
    assert staff_client.get(draft.get_absolute_url()).status_code == 200
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert "Add an update" not in client.get(story.get_absolute_url()).content.decode()


def served_alone(view, method="get"):
    """Two requests for `view`, marked public and mounted at /page/, through the middleware."""
    page = public_page(view, methods=("GET", "HEAD", "POST"))  # like the live endpoint
    urls = type("urls", (), {"urlpatterns": [path("page/", page)]})
    middleware = PageCacheMiddleware(lambda request: urls.urlpatterns[0].callback(request))
    responses = []
    for _ in range(2):
        request = getattr(RequestFactory(), method)("/page/")
        request.urlconf = urls
        responses.append(middleware(request))
    return responses


def test_a_public_page_is_stored_but_posts_are_not(story):
    calls = []

    def view(request):
        calls.append(request.method)
        return HttpResponse("done")

    first, again = served_alone(view)
    assert calls == ["GET"] and "public" in again["Cache-Control"]  # the second from cache
    first, again = served_alone(view, "post")
    assert calls == ["GET", "POST", "POST"]
    assert "public" not in again.get("Cache-Control", "")


def test_responses_that_set_cookies_are_not_cached(story):
    calls = []

    def view(request):
        calls.append(1)
        response = HttpResponse("hello")
        response.set_cookie("seen", "yes")
        return response

    for response in served_alone(view):
        assert response.cookies["seen"].value == "yes"
        assert "ETag" not in response
    assert len(calls) == 2


# --- Stale at once, whatever wrote ----------------------------------------------------


def save_post(post):
    post.title = "Budget 2027"
    post.save()


def rename_author(post):
    post.author.first_name, post.author.last_name = "Budget", "2027"
    post.author.save()


def rename_tag(post):
    tag = Tag.objects.get(slug="budget")
    tag.name = "Budget 2027"
    tag.save()


def bulk_create_update(post):
    Update.objects.bulk_create(
        [Update(post=post, author=post.author, body="x", body_html="<p>Budget 2027</p>")]
    )


# Each way of writing, and a page that shows what it wrote.
CHANGES = {
    "post saved": (save_post, "POST"),
    "queryset update": (
        lambda post: Post.objects.filter(pk=post.pk).update(title="Budget 2027"),
        "/",
    ),
    "category renamed": (
        lambda post: Category.objects.filter(slug="politics").update(name="Budget 2027"),
        "POST",
    ),
    "source renamed": (
        lambda post: Source.objects.filter(name="Dana Reyes").update(name="Budget 2027"),
        "/source/dana-reyes/",
    ),
    "tag added": (lambda post: post.tags.add("Budget 2027"), "POST"),
    "tag renamed": (rename_tag, "/tag/budget/"),
    "update added": (lambda post: UpdateFactory(post=post, body="Budget 2027"), "FEED"),
    "updates bulk created": (bulk_create_update, "POST"),
    "author renamed": (rename_author, "/feed/"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_any_content_change_shows_on_the_next_request(client, story, change):
    write, url = CHANGES[change]
    url = {"POST": story.get_absolute_url(), "FEED": f"{story.get_absolute_url()}feed/"}.get(
        url, url
    )
    etag = client.get(url)["ETag"]
    assert "Budget 2027" not in client.get(url).content.decode()
    write(story)
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert "Budget 2027" in response.content.decode()


def test_deleting_posts_in_bulk_empties_pages_feeds_and_the_thread(client, story):
    updates_url = f"{story.get_absolute_url()}updates/"
    for url in ("/", "/feed/", updates_url):
        assert "Council split" in client.get(url).content.decode() or url == updates_url
    Post.objects.filter(pk=story.pk).delete()
    assert "Council split" not in client.get("/").content.decode()
    assert "Council split" not in client.get("/feed/").content.decode()
    assert client.get(updates_url).status_code == 404
    assert client.get(story.get_absolute_url()).status_code == 404


def test_admin_delete_selected_reaches_readers(client, staff_client, story):
    client.get("/")
    response = staff_client.post(
        "/admin/blog/post/",
        {"action": "delete_selected", "_selected_action": [story.pk], "post": "yes"},
    )
    assert response.status_code == 302
    # Moved to the trash (tests/test_trash.py), which readers see at once too.
    assert Post.objects.get(pk=story.pk).deleted_at is not None
    assert "Council split" not in client.get("/").content.decode()


def test_bulk_delete_of_updates_reaches_the_live_thread_at_once(client, story):
    UpdateFactory(post=story, body="Second report.")
    url = f"{story.get_absolute_url()}updates/"
    first = client.get(url)
    assert first.content.decode().count("data-update-id=") == 2
    story.updates.all().delete()
    response = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 200
    assert "data-update-id=" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_version_is_renewed_again_when_the_transaction_commits(story):
    with transaction.atomic():
        story.title = "Renamed"
        story.save()
        UpdateFactory(post=story)
        during = current_version()["token"]
    assert current_version()["token"] != during


# --- Time ------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["post", "update"])
def test_scheduled_items_appear_on_cached_pages_and_feeds_at_their_time(client, story, what):
    when = timezone.now() + timedelta(minutes=30)
    if what == "post":
        scheduled = PostFactory(
            title="Scheduled piece", category=story.category, tags=["budget"], published_at=when
        )
        urls = ["/", "/feed/", "/category/politics/", "/tag/budget/feed/"]
    else:
        UpdateFactory(post=story, body="Scheduled piece", published_at=when)
        url = story.get_absolute_url()
        urls = [url, f"{url}feed/", f"{url}updates/", "/feed/"]
    etags = {url: client.get(url)["ETag"] for url in urls}
    for url in urls:
        assert "Scheduled piece" not in client.get(url).content.decode()
    with time_machine.travel(when + timedelta(seconds=1)):
        for url in urls:
            response = client.get(url, HTTP_IF_NONE_MATCH=etags[url])
            assert response.status_code == 200, url
            assert "Scheduled piece" in response.content.decode(), url
        if what == "post":
            assert client.get(scheduled.get_absolute_url()).status_code == 200


# --- Across processes: the shared cache on disk and in Redis ---------------------------


def other_process(code):
    """Run ORM code in a second `manage.py` process on the same database and cache."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{database['NAME']}"
    else:
        url = (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        )
    location = django_settings.CACHES["default"]["LOCATION"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "REDIS_URL": location if location.startswith("redis://") else "",
        "CACHE_DIR": "" if location.startswith("redis://") else location,
    }
    script = f"from blog.models import Post, Update\n{code}"
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        env=env,
        check=True,
        cwd=django_settings.BASE_DIR,
    )


@pytest.fixture(params=["file", "redis"])
def shared_cache(request, settings, tmp_path, redis_url):
    if request.param == "file":
        backend = "django.core.cache.backends.filebased.FileBasedCache"
        location = str(tmp_path / "cache")
    else:
        if redis_url is None:
            pytest.skip("no Redis on 127.0.0.1:6379 (CI starts one)")
        backend, location = "django.core.cache.backends.redis.RedisCache", redis_url
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": location}}
    cache.clear()
    yield request.param
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_a_change_made_by_another_process_shows_on_the_next_request(client, shared_cache):
    story = PostFactory(title="Council split", slug="council-split", is_developing=True)
    update = UpdateFactory(post=story, body="First report.")
    urls = [story.get_absolute_url(), "/feed/", f"{story.get_absolute_url()}updates/"]
    etags = {url: client.get(url)["ETag"] for url in urls}
    for url in urls:
        assert client.get(url, HTTP_IF_NONE_MATCH=etags[url]).status_code == 304
    other_process(
        f"Post.objects.filter(pk={story.pk}).update(title='Council agrees')\n"
        f"Update.objects.filter(pk={update.pk}).delete()"
    )
    for url in urls:
        response = client.get(url, HTTP_IF_NONE_MATCH=etags[url])
        assert response.status_code == 200, (shared_cache, url)
        assert "First report." not in response.content.decode()
    assert "Council agrees" in client.get(story.get_absolute_url()).content.decode()
    assert "Council agrees" in client.get("/feed/").content.decode()


def test_a_304_keeps_the_pages_own_lifetime_and_a_forged_etag_gets_the_page(client, story):
    etag = client.get("/feed/")["ETag"]
    not_modified = client.get("/feed/", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert "max-age=300" in not_modified["Cache-Control"]
    signature, _, max_age = etag.strip('"').rpartition(".")
    forged = f'"{signature}.31536000"'
    assert client.get("/feed/", HTTP_IF_NONE_MATCH=forged).status_code == 200
    assert client.get("/", HTTP_IF_NONE_MATCH=etag).status_code == 200  # another page's


def test_only_public_pages_consult_the_cache(client, story, django_assert_num_queries):
    client.get("/")
    cache.clear()
    # /healthz is not a public page: no version is read or renewed for it.
    with django_assert_num_queries(1):  # its own SELECT 1
        assert client.get("/healthz").status_code == 200
    assert cache.get("dateline:content-version") is None
