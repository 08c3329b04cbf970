"""RSS 2.0 and Atom 1.0 feeds: Django's syndication framework, extended where it falls short.

Additions: full content (`content:encoded` / Atom `content`), stored `tag:` ids, WebSub hub
links, characters XML cannot carry dropped. Validators and caching come from the page
cache (blog/caching.py), like every public page.
"""

import re
from html import unescape
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape, strip_tags
from django.utils.text import Truncator
from taggit.models import Tag

from blog.caching import rendered_fragments
from blog.markdown import clean_text
from blog.models import Category, Post, Quote, Source, Update, attach_threads


class XmlSafe(str):
    """Text already cleaned for XML (kept with a cached feed item): not cleaned again."""


def xml_safe(value, mark=False):
    if isinstance(value, XmlSafe):
        return value
    if isinstance(value, str):
        cleaned = clean_text(value)
        return XmlSafe(cleaned) if mark else cleaned
    if isinstance(value, list | tuple):
        return [xml_safe(item, mark) for item in value]
    return value


class FeedExtras:
    """Shared by both formats: clean every string, declare the hub, carry full content."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{key: xml_safe(value) for key, value in kwargs.items()})

    def add_item(self, **kwargs):
        super().add_item(**{key: xml_safe(value) for key, value in kwargs.items()})

    def hub_link(self, handler, tag):
        if hub := settings.DATELINE["WEBSUB_HUB"]:
            handler.addQuickElement(tag, None, {"rel": "hub", "href": hub})


class RssFeed(FeedExtras, Rss201rev2Feed):
    content_type = "application/rss+xml; charset=utf-8"

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
        }

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        self.hub_link(handler, "atom:link")

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content:encoded", item["content_html"])


class AtomFeed(FeedExtras, Atom1Feed):
    content_type = "application/atom+xml; charset=utf-8"

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        self.hub_link(handler, "link")

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content_html"], {"type": "html"})


def plain_text(html, words=None, chars=None):
    text = " ".join(unescape(strip_tags(html)).split())
    return Truncator(text).words(words) if words else Truncator(text).chars(chars)


RELATIVE_URL = re.compile(r'(href|src)="/(?!/)')


def on_host(url, site, host):
    """`url` on this request's scheme and host, if Django put it on the Site's domain."""
    parts = urlsplit(url)
    return parts._replace(**host).geturl() if url and parts.netloc == site else url


def author_name(user):
    return user.get_full_name() or user.get_username()


def local(when):
    return dateformat.format(timezone.localtime(when), "j F Y, H:i T")


class SiteFeed(Feed):
    """Our feeds' common ground; blog/urls.py serves them through the page cache."""

    feed_type = RssFeed

    @classmethod
    def atom(cls):
        view = cls()
        view.feed_type = AtomFeed
        return view

    def __call__(self, request, *args, **kwargs):
        # As Django's, but the XML is written to a string in one go, not to the response
        # in a thousand small writes; validators come from the page cache.
        feed = self.get_feed(self.get_object(request, *args, **kwargs), request)
        return HttpResponse(feed.writeString("utf-8"), content_type=feed.content_type)

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        # Django puts the Site row's domain (example.com) before the addresses it builds:
        # the feed's link, self link and id, and its items' links. Ours name the host this
        # request named, as every page's do. (Feeds serve every thread: the request stays
        # in this call, never on self.)
        site = get_current_site(request).domain  # cached by the call Django just made
        host = {"scheme": request.scheme, "netloc": request.get_host()}
        for key in ("link", "feed_url", "id"):
            feed.feed[key] = on_host(feed.feed[key], site, host)
        # Feed readers show content away from our pages: links must carry the host.
        base = f"{request.scheme}://{request.get_host()}/"
        for item in feed.items:
            if item["unique_id"] == item["link"]:  # a stored guid is never rewritten
                item["unique_id"] = on_host(item["unique_id"], site, host)
            item["link"] = on_host(item["link"], site, host)
            item["content_html"] = RELATIVE_URL.sub(rf'\1="{base}', item["content_html"])
        return feed

    # Posts and updates alike: a stored tag: id, a page address, an author, a date.
    item_guid_is_permalink = False

    def item_link(self, item):
        return item.get_absolute_url()

    def item_guid(self, item):
        return item.guid or self.item_link(item)

    def item_author_name(self, item):
        return author_name(item.author)

    def item_pubdate(self, item):
        return item.published_at

    def items_queryset(self, obj):
        raise NotImplementedError

    def latest(self, obj):
        return self.items_queryset(obj).order_by("-published_at", "-id")[
            : settings.DATELINE["FEED_ITEMS"]
        ]


class PostFeed(SiteFeed):
    """The whole site: latest published posts, full text, updates included."""

    def title(self, obj):
        return settings.DATELINE["SITE_NAME"]

    def description(self, obj):
        return settings.DATELINE["SITE_TAGLINE"]

    subtitle = description

    def link(self, obj):
        return reverse("blog:home")

    def posts(self, obj):
        return Post.objects.published()

    def items_queryset(self, obj):
        return self.posts(obj).select_related("author", "category")

    def items(self, obj):
        # get_feed adds the items itself, from cached fragments: Django's per-item
        # introspection (ten attribute calls an item) cost more than the items.
        return []

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        base = f"{request.scheme}://{request.get_host()}"
        for item in self.cached_items(obj, base):
            feed.add_item(**item)
        return feed

    def cached_items(self, obj, base):
        """The latest posts as feed items, from the fragment cache while their row and
        thread are unchanged; updates and tags are loaded for the others only."""

        def render(missing):
            updates = Update.objects.due().select_related("author")
            prefetch_related_objects(
                missing, "tags", Prefetch("updates", queryset=updates, to_attr="visible_updates")
            )
            return [self.item(post, base) for post in missing]

        def key(post):
            stamps = (post.modified_at, post.update_count, post.updates_modified)
            return ("feed-item", base, post.pk, *stamps, post.last_update_at)

        posts = attach_threads(self.latest(obj))
        return rendered_fragments(posts, key, render)

    def item(self, post, base):
        """add_item()'s arguments for one post: computed once per state of post and thread."""
        summary = post.excerpt or plain_text(post.body_html, words=60)
        line = self.updated_line(post)
        parts = [f"<p><strong>{escape(line)}</strong></p>"] if line else []
        parts.append(post.body_html)
        for update in post.visible_updates:
            label = update.get_kind_display()
            parts.append(
                f"<h3>{label}, {escape(local(update.published_at))}</h3>{update.body_html}"
            )
        latest = post.visible_updates[-1] if post.visible_updates else None
        link = base + post.get_absolute_url()
        item = {
            "title": post.title,
            "link": link,
            "description": escape(f"{line} — {summary}" if line else summary),
            "unique_id": post.guid or link,
            "unique_id_is_permalink": False,
            "author_name": author_name(post.author),
            "pubdate": post.published_at,
            # Only a new update or correction makes a story "updated"; an edit does not.
            "updateddate": max(post.published_at, latest.published_at)
            if latest
            else post.published_at,
            "categories": [post.category.name, *(tag.name for tag in post.tags.all())],
            # Feed readers show content away from our pages: links must carry the host.
            "content_html": RELATIVE_URL.sub(rf'\1="{base}/', "\n".join(parts)),
        }
        return {key: xml_safe(value, mark=True) for key, value in item.items()}

    def updated_line(self, post):
        if not post.visible_updates:
            return ""
        latest = post.visible_updates[-1]
        label = "Corrected" if latest.kind == Update.Kind.CORRECTION else "Updated"
        text = plain_text(latest.body_html, chars=140)
        return f"{label} {local(latest.published_at)}: {text}"


class CategoryFeed(PostFeed):
    def get_object(self, request, slug):
        return Category.with_slug(slug)

    def title(self, category):
        return f"{category.name} · {settings.DATELINE['SITE_NAME']}"

    def description(self, category):
        return category.description or f"Latest posts in {category.name}"

    def link(self, category):
        return category.get_absolute_url()

    def posts(self, category):
        return Post.objects.published().filter(category__in=Category.descendant_ids(category.pk))


class TagFeed(PostFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Tag, slug=slug)

    def title(self, tag):
        return f"#{tag.name} · {settings.DATELINE['SITE_NAME']}"

    def description(self, tag):
        return f"Latest posts tagged {tag.name}"

    def link(self, tag):
        return reverse("blog:tag", args=[tag.slug])

    def posts(self, tag):
        return Post.objects.published().tagged(tag)


class SourceFeed(PostFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Source, slug=slug)

    def title(self, source):
        return f"Quoting {source.name} · {settings.DATELINE['SITE_NAME']}"

    def description(self, source):
        return f"Posts that quote {source.name}"

    def link(self, source):
        return source.get_absolute_url()

    def posts(self, source):
        return Post.objects.published().filter(
            pk__in=Quote.objects.filter(source=source).values("post")
        )


class StoryFeed(SiteFeed):
    """One story's update thread, for a subscriber who follows it: one item per update."""

    def get_object(self, request, year, month, slug):
        post = get_object_or_404(Post.objects.published().select_related("category"), slug=slug)
        if not post.is_at(year, month):
            raise Http404("No story at this address.")
        return post

    def title(self, post):
        return f"Updates: {post.title}"

    def description(self, post):
        return f"“More as it develops…” on {post.title}"

    subtitle = description

    def link(self, post):
        return post.get_absolute_url()

    def items_queryset(self, post):
        return post.updates.due().select_related("author")

    def items(self, post):
        updates = list(self.latest(post))
        for update in updates:
            update.post = post  # all of one story: no query per item for links
        return updates

    def item_title(self, update):
        label = update.get_kind_display()
        return f"{label}, {local(update.published_at)}"

    def item_categories(self, update):
        return [update.post.category.name]

    def item_updateddate(self, update):
        return update.published_at

    def item_description(self, update):
        return escape(plain_text(update.body_html, words=60))

    def item_extra_kwargs(self, update):
        return {"content_html": update.body_html}


class CorrectionFeed(StoryFeed):
    """Every correction on the site."""

    def get_object(self, request):
        return None

    def title(self, obj):
        return f"Corrections · {settings.DATELINE['SITE_NAME']}"

    def description(self, obj):
        return "Every correction we have published, newest first."

    subtitle = description

    def link(self, obj):
        return reverse("blog:corrections")

    def items_queryset(self, obj):
        corrections = Update.objects.corrections().select_related("author", "post__category")
        return corrections.defer("post__search_vector")

    def items(self, obj):
        return self.latest(obj)

    def item_title(self, update):
        return f"Correction to “{update.post.title}”"
