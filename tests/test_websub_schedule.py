"""WebSub pings for scheduled posts and updates: sent by the task worker when their time
comes, with the real database task backend, a real hub on loopback and time-machine."""

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from blog.models import Post
from tests.factories import CategoryFactory, PostFactory, UpdateFactory
from tests.test_feeds import Hub, run_worker

# These commit for real: pings are queued when the save commits.
pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
SITE = "https://news.example"


@pytest.fixture
def hub(settings, time_machine):
    time_machine.move_to(NOW)
    with Hub() as hub:
        settings.DATELINE = {**settings.DATELINE, "WEBSUB_HUB": hub.url, "SITE_URL": SITE}
        yield hub


def pinged(hub):
    """Each feed URL the hub was told about, in order (a repeat shows twice)."""
    return [ping["hub.url"][0] for ping in hub.pings]


def worker_at(time_machine, when):
    time_machine.move_to(when)
    run_worker()


def scheduled_post(at):
    category = CategoryFactory(slug="politics")
    return PostFactory(slug="embargoed", category=category, published_at=at)


def test_a_scheduled_post_is_announced_by_the_worker_at_its_time_and_not_before(hub, time_machine):
    post = scheduled_post(NOW + timedelta(hours=2))
    [queued] = DBTaskResult.objects.all()
    assert queued.run_after == NOW + timedelta(hours=2)

    worker_at(time_machine, NOW)
    worker_at(time_machine, NOW + timedelta(hours=1, minutes=59))
    assert hub.pings == []

    worker_at(time_machine, NOW + timedelta(hours=2, minutes=1))
    assert {ping["hub.mode"][0] for ping in hub.pings} == {"publish"}
    assert set(pinged(hub)) >= {
        f"{SITE}/feed/",
        f"{SITE}/feed/atom/",
        f"{SITE}/category/politics/feed/",
        f"{SITE}{post.get_absolute_url()}feed/",
    }
    sent = len(hub.pings)
    worker_at(time_machine, NOW + timedelta(hours=3))
    assert len(hub.pings) == sent  # once


@pytest.mark.parametrize("change", ["unpublished", "trashed", "deleted"])
def test_a_post_taken_back_before_its_time_is_never_announced(hub, time_machine, change):
    post = scheduled_post(NOW + timedelta(hours=2))
    time_machine.move_to(NOW + timedelta(hours=1))
    if change == "unpublished":
        post.status = Post.Status.DRAFT
        post.save()
    elif change == "trashed":
        post.move_to_trash()
    else:
        post.delete()

    worker_at(time_machine, NOW + timedelta(hours=3))
    assert hub.pings == []
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 1  # it ran, and let go


@pytest.mark.parametrize("hours", [1, 4], ids=["earlier", "later"])
def test_a_rescheduled_post_is_announced_once_at_its_new_time(hub, time_machine, hours):
    post = scheduled_post(NOW + timedelta(hours=2))
    post.published_at = NOW + timedelta(hours=hours)
    post.save()
    story_feed = f"{SITE}{post.get_absolute_url()}feed/"

    worker_at(time_machine, NOW + timedelta(hours=hours, minutes=-1))
    assert hub.pings == []
    worker_at(time_machine, NOW + timedelta(hours=hours, minutes=1))
    assert pinged(hub).count(story_feed) == 1
    worker_at(time_machine, NOW + timedelta(hours=5))  # the first time is past too
    assert pinged(hub).count(story_feed) == 1


def test_an_update_dated_ahead_is_announced_at_its_time(hub, time_machine):
    post = PostFactory(slug="open-thread", published_at=NOW - timedelta(hours=1))
    run_worker()  # the post's own ping, at once
    hub.pings.clear()
    story_feed = f"{SITE}{post.get_absolute_url()}feed/"

    UpdateFactory(post=post, body="Vote at noon.", published_at=NOW + timedelta(minutes=30))
    worker_at(time_machine, NOW + timedelta(minutes=29))
    assert hub.pings == []
    worker_at(time_machine, NOW + timedelta(minutes=31))
    assert story_feed in pinged(hub)


def test_an_update_on_a_scheduled_post_waits_for_the_post(hub, time_machine):
    post = scheduled_post(NOW + timedelta(hours=2))
    UpdateFactory(post=post, body="Embargo note.", published_at=NOW)
    story_feed = f"{SITE}{post.get_absolute_url()}feed/"

    worker_at(time_machine, NOW + timedelta(hours=1))
    assert hub.pings == []
    worker_at(time_machine, NOW + timedelta(hours=2, minutes=1))
    # The post's task and the update's, both due when the post is.
    assert pinged(hub).count(story_feed) == 2
