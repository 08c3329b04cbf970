from datetime import datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.flatpages.models import FlatPage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.models import LegacyAddress, Post
from tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db

NOT_FOUND = "Page not found"


@pytest.fixture
def old_site():
    """What a WordPress import leaves: a post, a section, a page and a file, each with the
    addresses it had on the old site."""
    politics = CategoryFactory(name="Politics", slug="politics")
    post = PostFactory(
        title="The session opens",
        slug="the-session-opens",
        category=politics,
        published_at=timezone.make_aware(datetime(2026, 1, 8, 9, 30)),
    )
    about = FlatPage.objects.create(url="/about/", title="About Margin Notes", content="<p>Us.</p>")
    about.sites.add(django_settings.SITE_ID)
    for path in ("/?p=6", "/2026/01/08/the-session-opens/", "/archives/6"):
        LegacyAddress.objects.create(path=path, post=post)
    LegacyAddress.objects.create(path="/?cat=3", category=politics)
    LegacyAddress.objects.create(path="/category/world/politics/", category=politics)
    LegacyAddress.objects.create(path="/?page_id=4", page=about)
    LegacyAddress.objects.create(path="/?attachment_id=14", target="/media/uploads/harbour.jpg")
    return {"post": post, "category": politics, "page": about}


def redirects(client, url, to, **extra):
    response = client.get(url, **extra)
    assert (response.status_code, response.get("Location")) == (301, to), url
    return response


# --- WordPress's query addresses --------------------------------------------------------


def test_wordpress_ids_lead_to_the_post_section_page_and_file(client, old_site):
    post = old_site["post"]
    redirects(client, "/?p=6", post.get_absolute_url())
    redirects(client, "/?cat=3", "/category/politics/")
    redirects(client, "/?page_id=4", "/about/")
    redirects(client, "/?attachment_id=14", "/media/uploads/harbour.jpg")
    assert post.title in client.get("/?p=6", follow=True).content.decode()
    assert "About Margin Notes" in client.get("/?page_id=4", follow=True).content.decode()


def test_leading_zeros_and_other_parameters_do_not_matter(client, old_site):
    post = old_site["post"]
    redirects(client, "/?p=006", post.get_absolute_url())
    redirects(client, "/?utm_source=feed&p=6", post.get_absolute_url())
    # WordPress reads p first, then page_id, attachment_id and cat.
    redirects(client, "/?cat=3&page_id=4&p=6", post.get_absolute_url())
    redirects(client, "/?cat=3&page_id=4", "/about/")


def test_browsers_and_shared_caches_may_keep_the_redirect_a_while(client, old_site):
    response = redirects(client, "/?p=6", old_site["post"].get_absolute_url())
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert "public" in directives
    assert any(part.startswith("max-age=") and int(part[8:]) > 0 for part in directives)


def test_head_is_redirected_like_get(client, old_site):
    response = client.head("/?p=6")
    assert (response.status_code, response["Location"]) == (
        301,
        old_site["post"].get_absolute_url(),
    )
    assert client.head("/2026/01/08/the-session-opens/").status_code == 301


@pytest.mark.parametrize(
    "query",
    [
        "p=999",
        "page_id=6",  # p's id, under another parameter
        "cat=999",
        "attachment_id=999",
        "p=",
        "p=abc",
        "p=-6",
        "p=6.0",
        "p=%2B6",
        "p=%00",
        "p=%ff",
        "p=%D9%A6",  # an Arabic-Indic six: a digit to Python, not to WordPress
        "p=" + "9" * 40,
        "p=" + "x" * 10240,
        "cat=%F0%9F%93%B0",
    ],
)
def test_unknown_or_malformed_ids_are_a_404_not_the_home_page(client, old_site, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 404, query
    page = response.content.decode()
    assert NOT_FOUND in page
    assert old_site["post"].title not in page


def test_an_unpublished_post_is_not_given_away_by_its_old_addresses(client, old_site):
    post = old_site["post"]
    for status, published_at in [
        (Post.Status.DRAFT, None),
        (Post.Status.PUBLISHED, timezone.now() + timedelta(days=1)),
    ]:
        Post.objects.filter(pk=post.pk).update(status=status, published_at=published_at)
        for url in ("/?p=6", "/2026/01/08/the-session-opens/", "/archives/6"):
            response = client.get(url)
            assert response.status_code == 404, (status, url)
            assert post.title not in response.content.decode()


def test_a_members_only_page_is_not_given_away_either(client, old_site):
    FlatPage.objects.filter(pk=old_site["page"].pk).update(registration_required=True)
    assert client.get("/?page_id=4").status_code == 404


def test_the_page_cache_never_answers_an_old_address_with_the_home_page(client, old_site):
    home = client.get("/")
    assert client.get("/").status_code == 200  # now from the page cache
    post = old_site["post"]
    redirects(client, "/?p=6", post.get_absolute_url())
    # Not even to a reader holding the home page: its ETag names "/" at this version.
    redirects(client, "/?p=6", post.get_absolute_url(), HTTP_IF_NONE_MATCH=home["ETag"])
    assert client.get("/?p=999").status_code == 404
    assert client.get("/?p=999", HTTP_IF_NONE_MATCH=home["ETag"]).status_code == 404
    # While the home page itself, under any other parameter, is still the cached one.
    assert client.get("/?utm_source=x", HTTP_IF_NONE_MATCH=home["ETag"]).status_code == 304


# --- Old paths ------------------------------------------------------------------------


def test_old_permalinks_and_archive_addresses_lead_to_the_post(client, old_site):
    url = old_site["post"].get_absolute_url()
    redirects(client, "/2026/01/08/the-session-opens/", url)
    # With or without the slash WordPress would have added.
    redirects(client, "/2026/01/08/the-session-opens", url)
    redirects(client, "/archives/6", url)
    redirects(client, "/archives/6/", url)
    redirects(client, "/2026/01/08/the-session-opens/?utm_source=x", url)
    redirects(client, "/category/world/politics/", "/category/politics/")


def test_the_redirect_follows_a_renamed_slug(client, old_site):
    post = old_site["post"]
    post.slug = "the-session-opens-late"
    post.save()
    redirects(client, "/?p=6", "/2026/01/the-session-opens-late/")
    redirects(client, "/2026/01/08/the-session-opens/", "/2026/01/the-session-opens-late/")


def test_old_addresses_in_any_script_lead_to_the_post(client):
    slug = "αθήνα-notebook-the-ministrys-quiet-week"
    post = PostFactory(slug=slug, published_at=timezone.make_aware(datetime(2026, 3, 27, 8)))
    LegacyAddress.objects.create(path=f"/2026/03/27/{slug}/", post=post)
    encoded = "%CE%B1%CE%B8%CE%AE%CE%BD%CE%B1-notebook-the-ministrys-quiet-week"
    url = f"/2026/03/{encoded}/"
    assert post.get_absolute_url() == url
    redirects(client, f"/2026/03/27/{encoded}/", url)
    redirects(client, f"/2026/03/27/{encoded.lower()}/", url)
    assert client.get(url).status_code == 200


def test_an_address_that_answers_is_never_redirected(client, old_site):
    # An old address that is a page here too stays that page.
    LegacyAddress.objects.create(path="/category/politics/", target="/elsewhere/")
    assert client.get("/category/politics/").status_code == 200


def test_pages_that_answer_make_no_lookup(client, old_site):
    post = old_site["post"]
    for url in ("/", post.get_absolute_url(), "/category/politics/", "/about/", "/feed/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        assert not any("legacyaddress" in query["sql"] for query in queries), url


def test_unknown_addresses_stay_404s(client, old_site):
    for url in ("/2026/01/09/never-was/", "/archives/7", "/wp-login.php", "/?s=budget&p=x"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert NOT_FOUND in response.content.decode()


def test_only_reading_is_redirected(client, old_site):
    # The home page and the catch-all take only GET and HEAD; no lookup is made for others.
    for method in ("post", "put", "delete"):
        for url in ("/?p=6", "/2026/01/08/the-session-opens/"):
            assert getattr(client, method)(url).status_code == 405, (method, url)


@pytest.mark.parametrize(
    "url",
    [
        "/%00",
        "/2026/01/08/the-session-opens/%00/",
        "/archives/6%00",
        "/" + "x" * 10240,
        "/" + "x" * 10240 + "/",
        "/" + "a/" * 250,  # 501 characters: longer than any stored address
        "/%ff%fe/",
        "/%C0%AF/",
        "/..%2f..%2fetc%2fpasswd",
        "/%E2%80%AEevil/",
        "/?p=6%00",
        "/?cat=3&cat=%00",
    ],
)
def test_hostile_addresses_are_a_4xx_never_a_500(client, old_site, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500, url
