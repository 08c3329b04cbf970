"""Old addresses (a WordPress site's `/?p=6`, `/2026/01/08/slug/`) lead, with a 301, to
where their content lives now: blog.models.LegacyAddress says where."""

import re
from urllib.parse import urlencode

from django.http import Http404, HttpResponsePermanentRedirect
from django.urls import reverse

from blog.models import LegacyAddress
from blog.search import MAX_QUERY_CHARS

# WordPress's own query forms, read on the home page only, in the order WordPress reads them.
QUERY_PARAMETERS = ("p", "page_id", "attachment_id", "cat")
WORDPRESS_ID = re.compile(r"[0-9]{1,19}")
PATH_LENGTH = LegacyAddress._meta.get_field("path").max_length
# A target may change (a post unpublished, a slug renamed): browsers keep a 301 with no
# lifetime for ever, so the redirect says how long it may be reused.
REDIRECT_MAX_AGE = 3600


class LegacyAddressMiddleware:
    """Answers old addresses before the page cache (which keys `/` without `?p=`, so it would
    answer `/?p=6` with the home page) and after the rest, for addresses that are a 404.

    Other requests cost nothing: no lookup unless the home page carries a WordPress
    parameter or the answer is a 404.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        if request.path_info == "/" and (query := wordpress_query(request)):
            return redirect_or_404(find([query]))
        if request.path_info == "/" and "s" in request.GET:
            return search_redirect(request.GET["s"])
        response = self.get_response(request)
        if response.status_code == 404 and looks_up(request.path):
            path = request.path
            other = path[:-1] if path.endswith("/") else f"{path}/"
            if redirect := redirect_to(find([path, other] if other else [path])):
                return redirect
        return response


def wordpress_query(request):
    """`/?p=6` → "/?p=6", as LegacyAddress stores it; None without such a parameter.

    WordPress takes an id as a number: a value that is not one names nothing (a 404).
    """
    for name in QUERY_PARAMETERS:
        if name in request.GET:
            value = request.GET[name]
            if not WORDPRESS_ID.fullmatch(value):
                raise Http404("No such WordPress item.")
            return f"/?{name}={int(value)}"
    return None


def search_redirect(terms):
    """WordPress's search, `/?s=budget`, is ours at `/search/?q=budget`."""
    query = urlencode({"q": terms[:MAX_QUERY_CHARS]})
    response = HttpResponsePermanentRedirect(f"{reverse('blog:search')}?{query}")
    response["Cache-Control"] = f"public, max-age={REDIRECT_MAX_AGE}"
    return response


def looks_up(path):
    # Hostile addresses are no one's old address: a NUL (which PostgreSQL refuses to look
    # for) or one longer than any stored.
    return len(path) <= PATH_LENGTH and "\x00" not in path


def find(paths):
    """The LegacyAddress for the first of `paths` that has one."""
    found = {
        address.path: address
        for address in LegacyAddress.objects.filter(path__in=paths).select_related(
            "post", "category", "page"
        )
    }
    return next((found[path] for path in paths if path in found), None)


def redirect_to(address):
    destination = address and address.destination()
    if not destination:
        return None
    response = HttpResponsePermanentRedirect(destination)
    response["Cache-Control"] = f"public, max-age={REDIRECT_MAX_AGE}"
    return response


def redirect_or_404(address):
    # Like WordPress: an unknown or unpublished ?p= is a 404, never the home page.
    if redirect := redirect_to(address):
        return redirect
    raise Http404("No such WordPress item.")
