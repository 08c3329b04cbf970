"""What search engines and share previews read in a page's <head>: its address, its picture,
and schema.org JSON-LD, all absolute on the host the request named."""

import json
from urllib.parse import urlencode

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.utils.safestring import mark_safe

from blog import renditions
from blog.caching import page_parameters

# The site's own pictures (static/img/): what a page without one of its own is shared
# with, and the publisher's logo. Made with Pillow; sizes as Open Graph wants them said.
SITE_IMAGE = {"path": "img/share.png", "width": 1200, "height": 630}
LOGO = {"path": "img/logo.png", "width": 512, "height": 512}


def page_url(request, page=None):
    """This page's canonical address: its path, the query parameters that choose what it
    shows (its view's public_page parameters, as the page cache keys it; never utm_source
    and the like), and `page` only past the first."""
    params = [
        (name, request.GET[name])
        for name in page_parameters(request)
        if name != "page" and request.GET.get(name)
    ]
    if page is not None and int(page) > 1:
        params.append(("page", int(page)))
    url = request.build_absolute_uri(escape_uri_path(request.path))
    return f"{url}?{urlencode(params)}" if params else url


def absolute(request, url):
    """`url` (a path, or already absolute: object storage) on this request's scheme and host."""
    return request.build_absolute_uri(url)


def site_image(request):
    return {
        "url": absolute(request, static(SITE_IMAGE["path"])),
        "width": SITE_IMAGE["width"],
        "height": SITE_IMAGE["height"],
        "type": "image/png",
        "alt": settings.DATELINE["SITE_NAME"],
    }


def post_image(request, post):
    """The picture a post is shared with: its lead image cut to 1200×630, or its share
    card (blog/renditions.py); the site's when neither can be made."""
    image = renditions.social_image(post, request)
    if image is None:
        return site_image(request)
    alt = post.image_alt if post.image and post.image_alt else post.title
    return {**image, "alt": alt}


def w3c(when, zone=None):
    """A date and time as sitemaps and Open Graph write them, to the second, in the site's
    time zone (`zone`, to look it up once for many): 2026-03-14T09:30:00-04:00."""
    return timezone.localtime(when, zone).replace(microsecond=0).isoformat()


def article(post, tag_names):
    """A post's Open Graph article:* properties; None for a draft, which has no date.

    Modified means what the page's dates mean: the latest update or correction, not an
    edit of a typo.
    """
    if post.published_at is None:
        return None
    latest = post.last_update_at
    return {
        "published_time": w3c(post.published_at),
        "modified_time": w3c(max(post.published_at, latest) if latest else post.published_at),
        "section": post.category.name,
        "tags": tag_names,
    }


def publisher(request):
    """The site as schema.org Organization: who publishes every post."""
    home = absolute(request, reverse("blog:home"))
    return {
        "@type": "Organization",
        "@id": f"{home}#organization",
        "name": settings.DATELINE["SITE_NAME"],
        "url": home,
        "logo": {
            "@type": "ImageObject",
            "url": absolute(request, static(LOGO["path"])),
            "width": LOGO["width"],
            "height": LOGO["height"],
        },
    }


def site_structured_data(request):
    """The home page's JSON-LD: the Organization (name, logo) and the WebSite it runs."""
    home = absolute(request, reverse("blog:home"))
    search = absolute(request, reverse("blog:search"))
    website = {
        "@type": "WebSite",
        "@id": f"{home}#website",
        "name": settings.DATELINE["SITE_NAME"],
        "description": settings.DATELINE["SITE_TAGLINE"],
        "url": home,
        "publisher": {"@id": f"{home}#organization"},
        "potentialAction": {
            "@type": "SearchAction",
            "target": {"@type": "EntryPoint", "urlTemplate": f"{search}?q={{query}}"},
            "query-input": "required name=query",
        },
    }
    return json_ld({"@context": "https://schema.org", "@graph": [publisher(request), website]})


def json_ld(data):
    """JSON for a <script type="application/ld+json">: nothing in it can close the element
    ("</script>" in a title stays text)."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    for char, escaped in (("<", "\\u003C"), (">", "\\u003E"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    # The page wraps it in a <script> with this answer's CSP nonce (kept out of the cache).
    return mark_safe(text)
