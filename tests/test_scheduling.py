"""Scheduling: the admin says when a post goes out, and at that time it appears by itself
everywhere readers look, whether the page cache already holds those pages or not."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import formats, timezone

from blog.models import Post
from tests.admin_forms import form_data
from tests.factories import CategoryFactory, PostFactory

pytestmark = pytest.mark.django_db

EVERYWHERE = [
    "/",
    "/feed/",
    "/feed/atom/",
    "/category/politics/",
    "/tag/budget/",
    "/tag/budget/feed/",
    "/sitemap-posts.xml",
    "/sitemap-news.xml",
    "/search/?q=ferry",
]


@pytest.fixture
def scheduled(staff_client):
    """A post scheduled through the admin's add form for 30 minutes from now."""
    politics = CategoryFactory(name="Politics", slug="politics")
    PostFactory(title="Older story", category=politics, tags=["budget"])  # lists are not empty
    when = timezone.localtime(timezone.now() + timedelta(minutes=30)).replace(microsecond=0)
    data = form_data(staff_client.get("/admin/blog/post/add/"))
    data.update(
        title="Ferry contract signed",
        slug="ferry-contract-signed",
        category=str(politics.pk),
        tags="budget",
        body="The ferry deal is done.",
        status="published",
        published_at_0=when.strftime("%Y-%m-%d"),
        published_at_1=when.strftime("%H:%M:%S"),
    )
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    post = Post.objects.get(slug="ferry-contract-signed")
    assert post.published_at == when
    return post


def test_the_change_list_says_when_a_scheduled_post_goes_out(staff_client, scheduled):
    page = staff_client.get("/admin/blog/post/").content.decode()
    when = formats.date_format(timezone.localtime(scheduled.published_at), "DATETIME_FORMAT")
    assert f"Scheduled for {when}" in page
    with time_machine.travel(scheduled.published_at + timedelta(seconds=1)):
        page = staff_client.get("/admin/blog/post/").content.decode()
        assert "Scheduled for" not in page


@pytest.mark.parametrize("page_cache_seconds", [300, 0], ids=["cached", "not-cached"])
def test_a_scheduled_post_appears_everywhere_at_its_time(settings, scheduled, page_cache_seconds):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": page_cache_seconds}
    reader = Client()
    address = scheduled.get_absolute_url()
    assert reader.get(address).status_code == 404
    for url in EVERYWHERE:  # read, and with the cache on, stored
        response = reader.get(url)
        assert response.status_code == 200, url
        assert "ferry-contract-signed" not in response.content.decode(), url

    with time_machine.travel(scheduled.published_at - timedelta(seconds=5)):
        for url in EVERYWHERE:
            assert "ferry-contract-signed" not in reader.get(url).content.decode(), url

    with time_machine.travel(scheduled.published_at + timedelta(seconds=1)):
        assert reader.get(address).status_code == 200
        for url in EVERYWHERE:
            response = reader.get(url)
            assert response.status_code == 200, url
            assert "ferry-contract-signed" in response.content.decode(), url
