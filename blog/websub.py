"""WebSub: tell a hub that feeds changed, in the background, never failing a save; a
scheduled post or update is announced by the task worker when its time comes."""

import logging
from datetime import datetime
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

logger = logging.getLogger(__name__)


@task
def ping_hub(hub, feed_urls):
    """POST hub.mode=publish for each feed; failures are logged, not raised."""
    delivered = []
    for url in feed_urls:
        body = urlencode({"hub.mode": "publish", "hub.url": url}).encode()
        request = Request(hub, data=body, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urlopen(request, timeout=10):
                delivered.append(url)  # urlopen raises for 4xx and 5xx answers
        except (URLError, OSError, ValueError) as error:
            logger.warning("WebSub hub %s refused %s: %s", hub, url, error)
    return delivered


def feeds_showing(post, update=None):
    """Absolute URLs of the feeds a change to this post (or its update) appears in."""
    names = [("blog:feed", []), ("blog:feed_atom", [])]
    names += [("blog:category_feed", [post.category.slug])]
    names += [("blog:tag_feed", [tag.slug]) for tag in post.tags.all()]
    sources = post.quotes.filter(update=update).values_list("source__slug", flat=True)
    names += [("blog:source_feed", [slug]) for slug in sorted(set(sources))]
    url = post.get_absolute_url()
    site = settings.DATELINE["SITE_URL"]
    return [site + reverse(name, args=args) for name, args in names] + [f"{site}{url}feed/"]


def coming_due(post, update=None):
    """When the change shows in feeds: the post's publication, or for an update the
    later of that and the update's own time."""
    if update is None:
        return post.published_at
    return max(post.published_at, update.published_at)


def notify_hub(post, update=None):
    """After the save commits, queue a ping for every feed the change appears in: at
    once, or for a change dated ahead, at its time."""
    hub = settings.DATELINE["WEBSUB_HUB"]
    if not hub or post.status != post.Status.PUBLISHED or post.deleted_at:
        return
    due = coming_due(post, update)
    if due <= timezone.now():
        urls = feeds_showing(post, update)
        transaction.on_commit(lambda: ping_hub.enqueue(hub, urls), robust=True)
        return
    args = (post.pk, update and update.pk, due.isoformat())
    transaction.on_commit(lambda: ping_when_due.using(run_after=due).enqueue(*args), robust=True)


@task
def ping_when_due(post_id, update_id, due):
    """Ping for a post or update that has just come due, unless since it was queued it
    was unpublished, trashed, deleted or moved to another time (which queued its own)."""
    from blog.models import Post, Update  # blog.models imports this module

    hub = settings.DATELINE["WEBSUB_HUB"]
    post = Post.objects.filter(pk=post_id).first()
    if not hub or post is None or not post.is_published:
        return []
    update = None
    if update_id is not None:
        update = Update.objects.filter(pk=update_id, post=post).first()
        if update is None or update.published_at > timezone.now():
            return []
    if coming_due(post, update) != datetime.fromisoformat(due):
        return []
    return ping_hub.call(hub, feeds_showing(post, update))
