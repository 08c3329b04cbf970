from datetime import datetime
from urllib.parse import quote

import feedparser
import pytest
from django.conf import settings as django_settings
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from blog.models import Post, Source
from tests.admin_forms import form_data
from tests.factories import CategoryFactory, PostFactory, UpdateFactory, quoted

pytestmark = pytest.mark.django_db

HOSTILE_HTML = (
    '<p onclick="steal()">Who we are.</p><script>alert(1)</script>'
    '<img src="/x.png" onerror="alert(2)" alt="x">'
    '<a href="javascript:alert(3)">trap</a> <a href="/corrections/">corrections</a>'
    '<p style="position:fixed">styled</p><iframe src="https://evil.example/"></iframe>'
    "<style>body{display:none}</style>"
)


def flat_page(url="/about/", title="About us", content="<p>Who we are.</p>", **fields):
    page = FlatPage.objects.create(url=url, title=title, content=content, **fields)
    page.sites.add(django_settings.SITE_ID)
    return page


def page_text(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# --- Served at their own address ------------------------------------------------------


def test_a_flat_page_is_served_at_its_address_in_the_sites_layout(client):
    flat_page(content="<p>Who we are, and <strong>why</strong>.</p>")
    flat_page(url="/about/team/", title="The team", content="<p>Two people.</p>")
    page = page_text(client, "/about/")
    assert "<title>About us · Dateline</title>" in page
    assert "<h1>About us</h1>" in page
    assert "Who we are, and <strong>why</strong>." in page
    assert 'class="site-nav"' in page and 'href="/feed/"' in page  # the site's own frame
    assert '<meta name="description" content="Who we are, and why.">' in page
    assert "Two people." in page_text(client, "/about/team/")


def test_pages_of_another_site_and_unknown_addresses_are_404s(client):
    other = Site.objects.create(domain="other.example", name="Other")
    FlatPage.objects.create(url="/elsewhere/", title="Elsewhere").sites.add(other)
    for url in ("/elsewhere/", "/no/such/page/", "/about/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.content.decode()


def test_a_flat_page_cannot_take_an_address_the_site_already_serves(client):
    flat_page(url="/sources/", title="Hijacked", content="<p>Not the sources.</p>")
    assert "Hijacked" not in page_text(client, "/sources/")


def test_a_page_may_name_one_of_our_templates_but_no_other(client):
    # Neither exists as a flat page template: the default is used, never a 500.
    flat_page(template_name="flatpages/missing.html")
    flat_page(url="/admin-ish/", title="Admin-ish", template_name="admin/index.html")
    flat_page(url="/escape/", title="Escape", template_name="flatpages/../admin/index.html")
    for url in ("/about/", "/admin-ish/", "/escape/"):
        assert "<h1>" in page_text(client, url), url


def test_flat_pages_answer_405_to_anything_but_get_and_head(client):
    flat_page()
    assert client.head("/about/").status_code == 200
    for method in ("post", "put", "patch", "delete", "options"):
        response = getattr(client, method)("/about/")
        assert (response.status_code, response["Allow"]) == (405, "GET, HEAD"), method
    assert FlatPage.objects.get().content == "<p>Who we are.</p>"


# --- Sanitised when saved ---------------------------------------------------------------


def test_scripts_handlers_styles_and_javascript_links_never_reach_readers(client):
    page = flat_page(title="About\x00 us\x0b", content=HOSTILE_HTML)
    page.refresh_from_db()
    assert page.title == "About us"
    html = page_text(client, "/about/")
    body = html.split('<div class="post-body">')[1]
    for bad in ("<script", "onclick", "onerror", "javascript:", "style=", "<style", "<iframe"):
        assert bad not in page.content and bad not in body, bad
    assert "Who we are." in body and 'href="/corrections/"' in body


def test_an_edit_is_sanitised_too(client):
    page = flat_page()
    page.content = '<p>Edited.</p><img src="/x.png" onerror="alert(1)">'
    page.save()
    assert "onerror" not in page_text(client, "/about/")
    assert FlatPage.objects.get().content == '<p>Edited.</p><img src="/x.png">'


# --- Cached, and stale at once when edited ----------------------------------------------


def test_a_flat_page_is_cached_and_an_edit_shows_at_once(client, django_assert_num_queries):
    page = flat_page()
    first = client.get("/about/")
    assert "public" in first["Cache-Control"] and first["ETag"]
    with django_assert_num_queries(0):
        assert "Who we are." in page_text(client, "/about/")
    assert client.get("/about/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    page.content = "<p>Who we are now.</p>"
    page.save()
    assert "Who we are now." in page_text(client, "/about/")
    assert client.get("/about/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200

    page.sites.clear()
    assert client.get("/about/").status_code == 404
    page.sites.add(django_settings.SITE_ID)
    assert client.get("/about/").status_code == 200
    page.delete()
    assert client.get("/about/").status_code == 404


def test_a_new_page_shows_where_a_404_was(client):
    assert client.get("/about/").status_code == 404
    flat_page()
    assert client.get("/about/").status_code == 200


# --- Pages for signed-in readers only -------------------------------------------------


def test_a_members_page_sends_anonymous_readers_to_the_login(client, staff_client):
    flat_page(url="/desk/", title="Desk notes", registration_required=True)
    login = reverse("admin:login")
    for _ in range(2):  # never stored: the second answer is the view's again
        response = Client().get("/desk/")
        assert (response.status_code, response["Location"]) == (302, f"{login}?next=/desk/")
    staff = staff_client.get("/desk/")
    assert staff.status_code == 200 and "Desk notes" in staff.content.decode()
    assert "private" in staff["Cache-Control"] and "public" not in staff["Cache-Control"]
    assert '<meta name="robots" content="noindex">' in staff.content.decode()
    response = Client().get("/desk/")
    assert response.status_code == 302 and "Desk notes" not in response.content.decode()


def test_a_cached_page_made_members_only_is_hidden_at_once(client):
    page = flat_page()
    page_text(client, "/about/")
    page_text(client, "/about/")  # from the page cache
    page.registration_required = True
    page.save()
    assert client.get("/about/").status_code == 302


# --- APPEND_SLASH still works beside the catch-all ----------------------------------------


def test_addresses_without_their_slash_are_redirected_to_it(client):
    PostFactory(published_at=timezone.make_aware(datetime(2026, 3, 14, 9)))
    flat_page()
    flat_page(url="/about/team/", title="The team")
    for url, to in [
        ("/2026/03", "/2026/03/"),
        ("/2026", "/2026/"),
        ("/sources", "/sources/"),
        ("/feed", "/feed/"),
        ("/about", "/about/"),
        ("/about/team", "/about/team/"),
        ("/about?ref=nav", "/about/?ref=nav"),
        (f"/{django_settings.ADMIN_URL.rstrip('/')}", f"/{django_settings.ADMIN_URL}"),
    ]:
        response = client.get(url)
        assert (response.status_code, response.get("Location")) == (301, to), url
    assert client.get("/2026/03/").status_code == 200


def test_no_slash_redirect_where_the_slash_leads_nowhere(client):
    for url in ("/nothing", "/2026/13", "/%2Fsources", "/about/x%00", "/" + "x" * 10240):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Location" not in response, url


def test_the_slash_redirect_never_leaves_the_site(client):
    # A path of "//evil.example" with a slash added would be an address on another host.
    flat_page(url="//evil.example/", title="Odd but allowed")
    response = client.get("/%2Fevil.example")
    assert (response.status_code, response["Location"]) == (301, "/%2Fevil.example/")


# --- Edited in the admin --------------------------------------------------------------


def test_staff_add_and_change_a_flat_page_in_the_admin(staff_client):
    add_url = reverse("admin:flatpages_flatpage_add")
    data = form_data(staff_client.get(add_url))
    data.update(
        url="/corrections-policy/",
        title="Corrections policy",
        content=f"<p>We correct in the open.</p>{HOSTILE_HTML}",
        sites=[str(django_settings.SITE_ID)],
    )
    response = staff_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    page = FlatPage.objects.get(url="/corrections-policy/")
    assert "<script" not in page.content and "onerror" not in page.content

    reader = Client()
    assert "We correct in the open." in page_text(reader, "/corrections-policy/")
    change_url = reverse("admin:flatpages_flatpage_change", args=[page.pk])
    form = staff_client.get(change_url)
    assert 'href="/corrections-policy/"' in form.content.decode()  # "View on site"
    data = {**form_data(form), "content": "<p>We correct in the open, and date it.</p>"}
    data["sites"] = [str(django_settings.SITE_ID)]
    assert staff_client.post(change_url, data).status_code == 302
    assert "and date it." in page_text(reader, "/corrections-policy/")


def test_view_on_site_leads_to_this_site_not_the_site_rows_domain(staff_client):
    Site.objects.filter(pk=django_settings.SITE_ID).update(domain="example.com")
    post = PostFactory()
    update = UpdateFactory(post=post)
    category = post.category
    for url, address in [
        (reverse("admin:blog_post_change", args=[post.pk]), post.get_absolute_url()),
        (reverse("admin:blog_category_change", args=[category.pk]), category.get_absolute_url()),
    ]:
        page = staff_client.get(url).content.decode()
        assert f'href="{address}" class="viewsitelink"' in page, url
        assert "/r/" not in page and "example.com" not in page, url
    page = staff_client.get(reverse("admin:blog_post_change", args=[post.pk])).content.decode()
    assert f'href="{update.get_absolute_url()}"' in page  # the update inline's own link


# --- Feeds name the request's host ------------------------------------------------------


@pytest.fixture
def story():
    politics = CategoryFactory(name="Politics", slug="politics")
    post = PostFactory(
        slug="council-split",
        category=politics,
        is_developing=True,
        body=quoted("Nobody has the votes.", "— Dana Reyes, The Tribune"),
    )
    UpdateFactory(post=post, body="Vote set for Thursday.")
    return post


def feed_addresses(response):
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    return parsed.feed.link, self_links, [entry.link for entry in parsed.entries]


@pytest.mark.parametrize("atom", [False, True], ids=["rss", "atom"])
def test_feeds_link_to_the_host_the_request_named_not_the_site_row(client, story, atom):
    Site.objects.filter(pk=django_settings.SITE_ID).update(domain="example.com")
    suffix = "atom/" if atom else ""
    for url in (f"/feed/{suffix}", f"{story.get_absolute_url()}feed/{suffix}"):
        response = client.get(url)
        link, self_links, entries = feed_addresses(response)
        assert "example.com" not in response.content.decode(), url
        assert link.startswith("http://testserver/"), url
        assert self_links == [f"http://testserver{url}"], url
        assert entries and all(e.startswith("http://testserver/") for e in entries), url

    cache.clear()  # the page cache keeps one copy of an address, whatever the host
    url = f"{story.get_absolute_url()}feed/{suffix}"
    response = client.get(url, HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")
    link, self_links, entries = feed_addresses(response)
    assert link == f"https://localhost{story.get_absolute_url()}"
    assert self_links == [f"https://localhost{url}"]
    assert entries and all(e.startswith("https://localhost/") for e in entries)


# --- Addresses in any script --------------------------------------------------------------

SLUG = "αθήνα-notebook-the-ministrys-quiet-week"


@pytest.fixture
def greek_story():
    section = CategoryFactory(name="Ειδήσεις", slug="ειδήσεις")
    post = PostFactory(
        title="Athens notebook: the ministry's quiet week",
        slug=SLUG,
        category=section,
        tags=["Αθήνα"],
        is_developing=True,
        published_at=timezone.make_aware(datetime(2026, 3, 27, 8)),
    )
    UpdateFactory(post=post, body="The minister spoke at last.")
    Source.objects.create(name="Η Εφημερίδα", slug="η-εφημερίδα", kind=Source.Kind.OUTLET)
    return post


def test_a_unicode_slug_post_answers_at_its_percent_encoded_address(client, greek_story):
    url = greek_story.get_absolute_url()
    assert url == f"/2026/03/{quote(SLUG)}/"
    assert url == reverse("blog:post", args=[2026, 3, SLUG])
    # Browsers send either case of the same bytes.
    for address in (url, url.lower()):
        page = page_text(client, address)
        assert greek_story.title.replace("'", "&#x27;") in page, address
    assert "The minister spoke at last." in page_text(client, f"{url}updates/")
    for feed in (f"{url}feed/", f"{url}feed/atom/"):
        response = client.get(feed)
        assert response.status_code == 200, feed
        assert not feedparser.parse(response.content).bozo


def test_unicode_sections_tags_and_sources_have_addresses_and_feeds(client, greek_story):
    category = reverse("blog:category", args=["ειδήσεις"])
    tag = reverse("blog:tag", args=["αθήνα"])
    source = reverse("blog:source", args=["η-εφημερίδα"])
    assert category == greek_story.category.get_absolute_url() == f"/category/{quote('ειδήσεις')}/"
    assert f'href="{tag}"' in page_text(client, greek_story.get_absolute_url())
    for url in (category, tag):
        assert greek_story.title.replace("'", "&#x27;") in page_text(client, url), url
        assert greek_story.title in client.get(f"{url}feed/").content.decode(), url
        assert client.get(f"{url}feed/atom/").status_code == 200, url
    assert "Η Εφημερίδα" in page_text(client, source)
    assert client.get(f"{source}feed/").status_code == 200


def test_staff_edit_a_unicode_slug_post_in_the_admin(staff_client, greek_story):
    url = reverse("admin:blog_post_change", args=[greek_story.pk])
    data = {**form_data(staff_client.get(url)), "title": "Athens notebook, revised"}
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    greek_story.refresh_from_db()
    assert (greek_story.title, greek_story.slug) == ("Athens notebook, revised", SLUG)

    add_url = reverse("admin:blog_post_add")
    data = {**form_data(staff_client.get(add_url)), "title": "Θεσσαλονίκη", "slug": "θεσσαλονίκη"}
    data.update(category=str(greek_story.category.pk), body="Notes.", status="published")
    data.update(published_at_0="2026-03-28", published_at_1="10:00:00")
    response = staff_client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    post = Post.objects.get(slug="θεσσαλονίκη")
    assert "Θεσσαλονίκη" in page_text(Client(), post.get_absolute_url())
