from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.sites.models import Site
from django.core.cache import cache
from django.utils import timezone

from blog.caching import current_version
from blog.models import Category, Post, Source
from tests.factories import (
    CategoryFactory,
    PostFactory,
    SourceFactory,
    UpdateFactory,
    UserFactory,
    quoted,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    """A published post in Politics › City Hall, tagged, with two quotes and updates."""
    politics = CategoryFactory(name="Politics", slug="politics")
    city = CategoryFactory(name="City Hall", slug="city-hall", parent=politics)
    post = PostFactory(
        title="City budget update: council split",
        slug="city-budget",
        category=city,
        published_at=timezone.make_aware(datetime(2026, 3, 14, 9, 30)),
        is_developing=True,
        tags=["budget", "council"],
        body="\n\n".join(
            [
                "So says the Tribune's city-hall reporter:",
                quoted("Nobody has the votes.", "— Dana Reyes, The Tribune"),
                quoted(
                    "Transit cuts are off the table.", "— [The Ledger](https://ledger.example/x)"
                ),
                "More as it develops…",
            ]
        ),
    )
    UpdateFactory(
        post=post,
        body="Vote moved to Thursday.",
        published_at=post.published_at + timedelta(hours=2),
    )
    UpdateFactory(
        post=post,
        kind="correction",
        body="An earlier version misnamed the clerk.",
        published_at=post.published_at + timedelta(hours=3),
    )
    return post


def get_page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_home_lists_published_posts_newest_first(client, story):
    older = PostFactory(title="An older piece", published_at=story.published_at - timedelta(days=1))
    PostFactory(title="A draft piece", status=Post.Status.DRAFT, published_at=None)
    PostFactory(title="A scheduled piece", published_at=timezone.now() + timedelta(days=1))
    page = get_page(client, "/")
    assert page.index(story.title) < page.index(older.title)
    assert "A draft piece" not in page and "A scheduled piece" not in page
    assert 'href="/tag/budget/"' in page


def test_home_paginates(client):
    for n in range(12):
        PostFactory(
            title=f"Numbered post {n:02d}", published_at=timezone.now() - timedelta(hours=n + 1)
        )
    first = get_page(client, "/")
    second = get_page(client, "/?page=2")
    assert "Numbered post 00" in first and "Numbered post 10" not in first
    assert "Numbered post 10" in second and "Numbered post 11" in second
    assert 'href="?page=2"' in first


def test_post_page_shows_quotes_in_place_and_the_update_thread(client, story):
    page = get_page(client, "/2026/03/city-budget/")
    assert "<h1" in page and story.title in page
    assert page.count('<figure class="quote">') == 2
    assert page.index("Nobody has the votes.") < page.index("More as it develops")
    assert 'href="/source/dana-reyes/"' in page and 'href="/source/the-tribune/"' in page
    assert '<blockquote cite="https://ledger.example/x">' in page
    first, correction = story.updates.all()
    # Newest first, as live threads read.
    assert page.index(f'id="update-{correction.pk}"') < page.index(f'id="update-{first.pk}"')
    assert f'href="#update-{first.pk}"' in page
    assert "update--correction" in page and "Correction" in page
    assert "Vote moved to Thursday." in page
    assert "Corrected on" in page


def test_post_page_breadcrumbs_follow_the_category_tree(client, story):
    page = get_page(client, story.get_absolute_url())
    crumbs = page[page.index('aria-label="Breadcrumb"') :]
    assert crumbs.index('href="/"') < crumbs.index('href="/category/politics/"')
    assert crumbs.index('href="/category/politics/"') < crumbs.index('href="/category/city-hall/"')


def test_post_page_has_landmarks_and_dark_mode_styles(client, story):
    page = get_page(client, story.get_absolute_url())
    for landmark in ("<header", "<main", "<footer", "<nav"):
        assert landmark in page
    css = b"".join(client.get("/static/css/site.css").streaming_content).decode()
    assert "prefers-color-scheme: dark" in css


@pytest.mark.parametrize("status", ["draft", "scheduled"])
def test_unpublished_posts_are_404_for_readers(client, status):
    if status == "draft":
        post = PostFactory(status=Post.Status.DRAFT, published_at=None)
    else:
        post = PostFactory(published_at=timezone.now() + timedelta(days=1))
    assert client.get(post.get_absolute_url()).status_code == 404


def test_staff_can_preview_a_draft(staff_client):
    post = PostFactory(status=Post.Status.DRAFT, published_at=None, title="Work in progress")
    page = get_page(staff_client, post.get_absolute_url())
    assert "Work in progress" in page and "not public" in page


def test_post_under_the_wrong_month_redirects_to_its_address(client, story):
    response = client.get("/2026/04/city-budget/")
    assert response.status_code == 301
    assert response["Location"] == "/2026/03/city-budget/"


def test_category_archive_includes_subcategories(client, story):
    PostFactory(title="Unrelated world news", category=CategoryFactory(name="World"))
    page = get_page(client, "/category/politics/")
    assert story.title in page and "Unrelated world news" not in page
    assert "City Hall" in get_page(client, "/category/city-hall/")


def test_tag_archive(client, story):
    PostFactory(title="Untagged post")
    page = get_page(client, "/tag/budget/")
    assert story.title in page and "Untagged post" not in page


def test_date_archives(client, story):
    PostFactory(title="February post", published_at=timezone.make_aware(datetime(2026, 2, 10, 12)))
    year = get_page(client, "/2026/")
    assert story.title in year and "February post" in year
    month = get_page(client, "/2026/03/")
    assert story.title in month and "February post" not in month


def test_sources_page_ranks_by_quote_count(client, story):
    PostFactory(
        body=quoted("Again.", "— Dana Reyes") + "\n\nx\n\n" + quoted("Once more.", "— Dana Reyes")
    )
    SourceFactory(name="Never Quoted")
    page = get_page(client, "/sources/")
    assert page.index("Dana Reyes") < page.index("The Ledger")
    assert "Never Quoted" not in page
    assert "last 30 days" in page.lower()


def test_source_page_lists_quotes_newest_first_and_hides_drafts(client, story):
    PostFactory(
        title="A later story",
        published_at=story.published_at + timedelta(days=1),
        body=quoted("Still no votes.", "— Dana Reyes"),
    )
    PostFactory(status=Post.Status.DRAFT, published_at=None, body=quoted("Secret.", "— Dana Reyes"))
    page = get_page(client, "/source/dana-reyes/")
    assert page.index("Still no votes.") < page.index("Nobody has the votes.")
    assert "Secret." not in page
    assert 'href="/source/the-tribune/"' in page
    assert "/2026/03/city-budget/" in page


def test_outlet_page_lists_its_people(client, story):
    page = get_page(client, "/source/the-tribune/")
    assert 'href="/source/dana-reyes/"' in page


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.parametrize(
    "url",
    [
        "/2026/03/no-such-post/",
        "/category/nope/",
        "/tag/nope/",
        "/source/nope/",
        "/1999/",
        "/2026/13/",
        "/2026/00/",
        "/2026/3/city-budget/",
        "/26/03/city-budget/",
        "/0000/",
        "/2026/03/city-budget/extra/",
        "/?page=999",
        "/?page=abc",
        "/?page=0",
        "/category/politics/?page=999",
        "/tag/budget/?page=abc",
        "/2026/?page=999",
        "/sources/?page=abc",
        "/source/dana-reyes/?page=999",
        "/no/such/page/",
    ],
)
def test_bad_addresses_are_404_not_500(client, story, url):
    response = client.get(url)
    assert response.status_code == 404
    assert b"not found" in response.content.lower() or b"404" in response.content


# --- Query counts stay constant whatever is on the page ------------------------------


@pytest.fixture
def busy_site():
    """Ten posts per page and one post with 20 quotes and 30 updates."""
    politics = CategoryFactory(name="Politics", slug="politics")
    for n in range(12):
        PostFactory(
            category=politics,
            tags=["budget", f"tag-{n}"],
            published_at=timezone.now() - timedelta(days=n + 1),
            body=quoted("A quote.", f"— Person {n}, The Tribune"),
        )
    body = "\n\nCommentary.\n\n".join(
        quoted(f"Quote number {n}.", f"— Speaker {n}, Outlet {n % 4}") for n in range(20)
    )
    big = PostFactory(
        slug="big-story", category=politics, tags=["budget"], body=body, is_developing=True
    )
    second_author = UserFactory()
    for n in range(30):
        UpdateFactory(
            post=big,
            author=second_author if n % 2 else big.author,
            body=f"Update {n}.",
            published_at=big.published_at + timedelta(minutes=n),
        )
    assert big.quotes.count() == 20
    return big


def add_posts(numbers):
    """Posts in nested sections, tagged, quoted, each with an update."""
    politics, _ = Category.objects.get_or_create(slug="politics", defaults={"name": "Politics"})
    city, _ = Category.objects.get_or_create(
        slug="city-hall", defaults={"name": "City Hall", "parent": politics}
    )
    authors = [UserFactory(username=f"author{n}") for n in range(3)]
    for n in numbers:
        post = PostFactory(
            category=city if n % 2 else politics,
            author=authors[n % 3],
            tags=["budget", f"tag-{n}"],
            published_at=timezone.now() - timedelta(days=n + 1),
            body=quoted("A quote.", f"— Person {n}, The Tribune"),
        )
        UpdateFactory(
            post=post,
            kind="correction" if n % 5 == 0 else "update",
            published_at=post.published_at + timedelta(hours=1),
        )


PAGES = [
    "/",
    "/category/politics/",
    "/tag/budget/",
    "/sources/",
    "/source/the-tribune/",
    "/source/person-1/",
    "/corrections/",
    "YEAR",
    "MONTH",
    "POST",
    "/feed/",
    "/feed/atom/",
    "/category/politics/feed/",
    "/tag/budget/feed/",
    "/source/person-1/feed/",
    "POST_FEED",
    "UPDATES",
]


def page_url(url, post):
    when = timezone.localtime(post.published_at)
    return {
        "YEAR": f"/{when:%Y}/",
        "MONTH": f"/{when:%Y/%m}/",
        "POST": post.get_absolute_url(),
        "POST_FEED": f"{post.get_absolute_url()}feed/",
        "UPDATES": f"{post.get_absolute_url()}updates/",
    }.get(url, url)


def queries_per_page(client, urls):
    """SQL queries of each page, rendered afresh (page cache off, content version known)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post = Post.objects.published().first()
    # Django's feeds read the Site row once per process (django.contrib.sites keeps it).
    Site.objects.get_current()
    counts = {}
    for url in urls:
        cache.clear()
        current_version()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page_url(url, post))
        assert response.status_code == 200, url
        counts[url] = len(queries)
    return counts


def test_every_page_runs_at_most_six_queries_whatever_the_archive_size(client, settings):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": 0}
    add_posts(range(3))
    few = queries_per_page(client, PAGES)
    add_posts(range(3, 60))
    many = queries_per_page(client, [*PAGES, "/?page=2", "/?page=6"])
    # An N+1 shows only once the posts outnumber a page: 3 posts against 60.
    assert {url: many[url] for url in PAGES} == few
    assert many["/?page=6"] == many["/?page=2"] == many["/"]
    assert max(many.values()) <= 6, many


def test_category_count_does_not_change_post_page_queries(
    client, busy_site, django_assert_max_num_queries
):
    parent = Category.objects.get(slug="politics")
    for _ in range(5):
        parent = CategoryFactory(parent=parent)
    busy_site.category = parent
    busy_site.save()
    with django_assert_max_num_queries(6):
        assert client.get(busy_site.get_absolute_url()).status_code == 200


def test_sources_are_quoted_once_each_on_the_sources_page(client, busy_site):
    page = get_page(client, "/sources/")
    assert Source.objects.filter(name="The Tribune").exists()
    assert "The Tribune" in page


@pytest.mark.parametrize("url", ["/", "YEAR", "MONTH"])
def test_scheduled_post_appears_once_its_time_comes(client, url):
    import time_machine

    post = PostFactory(title="Scheduled piece", published_at=timezone.now() + timedelta(minutes=5))
    when = timezone.localtime(post.published_at)
    url = {"YEAR": f"/{when:%Y}/", "MONTH": f"/{when:%Y/%m}/"}.get(url, url)
    assert "Scheduled piece" not in client.get(url).content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert "Scheduled piece" in client.get(url).content.decode()


def test_quotes_reach_the_source_page_when_their_post_or_update_is_published(client):
    draft = PostFactory(
        status=Post.Status.DRAFT,
        published_at=None,
        body=quoted("Nobody has the votes.", "— Dana Reyes"),
    )
    assert "Nobody has the votes." not in get_page(client, "/source/dana-reyes/")
    draft.status = Post.Status.PUBLISHED
    draft.save(update_fields=["status"])  # as the admin's publish action does
    assert "Nobody has the votes." in get_page(client, "/source/dana-reyes/")
    later = timezone.now() + timedelta(hours=1)
    UpdateFactory(post=draft, body=quoted("Vote is Thursday.", "— Dana Reyes"), published_at=later)
    assert "Vote is Thursday." not in get_page(client, "/source/dana-reyes/")
    with time_machine.travel(later + timedelta(minutes=1)):
        assert "Vote is Thursday." in get_page(client, "/source/dana-reyes/")
