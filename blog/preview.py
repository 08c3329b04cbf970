"""Preview links: a signed, expiring address that shows a draft to someone without an account.

A link carries the post's id, its `preview_key` and when it expires, signed with the
site's secret (django.core.signing). Revoking gives the post a new key, so every link
given out before stops working; so does publishing (the link then leads to the post)
and moving the post to the trash. Preview pages are never cached, never indexed and
set no cookie.
"""

import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import models
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.crypto import constant_time_compare

from blog.caching import allow_methods
from blog.models import Post
from blog.views import post_context

SALT = "dateline.preview"


def ensure_key(post):
    """The post's preview key, made the first time a link is asked for."""
    if not post.preview_key:
        set_key(post, only_if_empty=True)
        post.refresh_from_db(fields=["preview_key"])
    return post.preview_key


def revoke(post):
    """A new key: every link made before no longer opens the preview."""
    set_key(post)


def set_key(post, only_if_empty=False):
    rows = Post.objects.filter(pk=post.pk)
    if only_if_empty:  # two editors asking at once share one key
        rows = rows.filter(preview_key="")
    key = secrets.token_hex(16)
    # Readers never see the key: a plain update, so no page goes stale and the post's
    # modified_at (shown in feeds and sitemaps) stays as it was.
    models.QuerySet.update(rows, preview_key=key)
    post.preview_key = key


def make_link(post):
    """(path of a new preview link, when it expires)."""
    expires = timezone.now() + timedelta(hours=settings.DATELINE["PREVIEW_HOURS"])
    payload = [post.pk, ensure_key(post), int(expires.timestamp())]
    token = signing.dumps(payload, salt=SALT)
    return reverse("blog:preview", args=[token]), expires.replace(microsecond=0)


class Unavailable(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


BROKEN = Unavailable(404, "This preview link is not valid. Check that it was copied whole.")
EXPIRED = Unavailable(410, "This preview link has expired. Ask the editor for a new one.")
WITHDRAWN = Unavailable(410, "This preview link has been withdrawn. Ask the editor for a new one.")


def previewed(token):
    """(post, expiry) that a token opens, or Unavailable saying why not."""
    try:
        pk, key, expires = signing.loads(token, salt=SALT)
    except (signing.BadSignature, TypeError, ValueError) as error:
        raise BROKEN from error
    if not (isinstance(pk, int) and isinstance(key, str) and isinstance(expires, int)):
        raise BROKEN
    if expires <= timezone.now().timestamp():
        raise EXPIRED
    post = Post.objects.select_related("author", "category").filter(pk=pk).first()
    if post is None or post.deleted_at is not None:
        raise WITHDRAWN
    if not (post.preview_key and constant_time_compare(post.preview_key, key)):
        raise WITHDRAWN
    return post, datetime.fromtimestamp(expires, tz=UTC)


def private(response):
    """Never stored by a browser or shared cache, never indexed, and the token in the
    address never sent on to the sites a draft links to."""
    patch_cache_control(response, private=True, no_store=True)
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@allow_methods
def preview(request, token):
    """/preview/<token>/: the post exactly as its page will look, with a banner."""
    try:
        post, expires = previewed(token)
    except Unavailable as gone:
        response = render(
            request, "blog/preview_unavailable.html", {"reason": gone.reason}, status=gone.status
        )
        return private(response)
    if post.is_published:
        # The preview has done its job: the reader goes to the post itself.
        return private(redirect(post))
    context = {**post_context(request, post), "preview_expires": expires}
    return private(render(request, "blog/post_preview.html", context))
