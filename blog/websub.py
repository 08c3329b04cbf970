"""WebSub: tell a hub that feeds changed, in the background, never failing a save."""

import logging
from urllib.error import URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.urls import reverse

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


def notify_hub(post, update=None):
    """After the save commits, queue a ping for every feed the post appears in."""
    hub = settings.DATELINE["WEBSUB_HUB"]
    if not hub or not post.is_published:
        return
    urls = feeds_showing(post, update)
    transaction.on_commit(lambda: ping_hub.enqueue(hub, urls), robust=True)
