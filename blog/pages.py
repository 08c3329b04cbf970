"""Flat pages (django.contrib.flatpages) at their own addresses, such as /about/: sanitised
when saved, served like every public page."""

import re

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.flatpages.models import FlatPage
from django.db.models.signals import pre_save
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import escape_leading_slashes

from blog.feeds import plain_text
from blog.markdown import clean_text, sanitise

DEFAULT_TEMPLATE = "flatpages/default.html"
# A page may name another template of ours, not any template at all (the admin's would
# render without its context, and "flatpages/../" reaches every other).
PAGE_TEMPLATE = re.compile(r"flatpages/[-\w]+\.html")
URL_LENGTH = FlatPage._meta.get_field("url").max_length


def static_page(request, url):
    """The flat page at this address. blog/urls.py sends every address no other pattern
    takes here, so CommonMiddleware never sees an unknown one: APPEND_SLASH is done here.
    Anything else is a 404, and then LegacyAddressMiddleware's turn."""
    path = f"/{url}"
    page = flat_page(path)
    if page is None:
        if path.endswith("/") or not settings.APPEND_SLASH:
            raise Http404("No page at this address.")
        if not slash_leads_somewhere(request, path):
            raise Http404("No page at this address.")
        # As CommonMiddleware would: "//evil.example/" must stay a path on this site.
        slashed = escape_leading_slashes(request.get_full_path(force_append_slash=True))
        return HttpResponsePermanentRedirect(slashed)
    if page.registration_required and not request.user.is_authenticated:
        return redirect_to_login(request.path)
    templates = [DEFAULT_TEMPLATE]
    if PAGE_TEMPLATE.fullmatch(page.template_name):
        templates.insert(0, page.template_name)
    description = plain_text(page.content, chars=200) or page.title
    return render(request, templates, {"flatpage": page, "description": description})


def flat_page(path):
    # A NUL or a 10 KB address is no page's: PostgreSQL refuses to look for the first.
    if len(path) > URL_LENGTH or "\x00" in path:
        return None
    return FlatPage.objects.filter(url=path, sites=settings.SITE_ID).first()


def slash_leads_somewhere(request, path):
    """Whether the address with a slash added is a page: a flat page, or any other pattern
    (not this catch-all) that does not opt out of APPEND_SLASH."""
    slashed = f"{path}/"
    if flat_page(slashed):
        return True
    try:
        match = resolve(slashed, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return match.view_name != "blog:page" and getattr(match.func, "should_append_slash", True)


def clean_page(sender, instance, **kwargs):
    """A flat page's content is HTML that the template shows as it is: whoever saves it (the
    admin, an import, a script), it is sanitised first, like a post's body_html."""
    instance.title = clean_text(instance.title)
    instance.content = sanitise(instance.content or "")


def connect_signals():
    pre_save.connect(clean_page, sender=FlatPage, dispatch_uid="flat-page-sanitise")
