from functools import cache

from django.conf import settings
from django.urls import reverse


@cache
def site_urls():
    """The addresses every page links to: reversed once per process, not on each page."""
    names = ("home", "sources", "corrections", "feed", "feed_atom", "search")
    return {name: reverse(f"blog:{name}") for name in names}


def site(request):
    return {
        "site_name": settings.DATELINE["SITE_NAME"],
        "site_tagline": settings.DATELINE["SITE_TAGLINE"],
        "urls": site_urls(),
    }
