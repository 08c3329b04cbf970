"""Import a WordPress export (WXR) into Dateline: the work behind `manage.py import_wxr`.

Every import is recorded (blog.models.WordPressItem), so running it again changes
nothing, a later export adds only what is new, and a post an editor changed here is left
alone unless the caller asks to overwrite it.
"""

import hashlib
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import timezone as fixed_zone
from functools import cached_property
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import reversion
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.flatpages.models import FlatPage
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import slugify
from taggit.models import Tag

from blog.caching import content_changed
from blog.images import clean_upload
from blog.importers.html_to_markdown import (
    has_more_line,
    parse_date_hint,
    parse_time_hint,
    split_updates,
    to_markdown,
)
from blog.markdown import clean_text, render
from blog.models import (
    Category,
    LegacyAddress,
    Post,
    Source,
    Update,
    WordPressItem,
    unique_slug,
)

Kind = WordPressItem.Kind
UPLOADS = "/wp-content/uploads/"
# WordPress's own statuses; anything else (a plugin's) is skipped with its name.
STATUSES = {
    "publish": Post.Status.PUBLISHED,
    "future": Post.Status.PUBLISHED,
    "draft": Post.Status.DRAFT,
    "pending": Post.Status.DRAFT,
    "private": Post.Status.DRAFT,
}
# Statuses of posts that were (or were about to be) out in the world, with a date.
DATED = {"publish", "future", "private"}
UNICODE_SLUG = re.compile(r"^[-\w]+$")
# A post that fails for any reason is reported by title and id; the rest goes on.
FAILURES = (Exception,)


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    reasons: Counter = field(default_factory=Counter)

    def skip(self, reason, count=1):
        self.skipped += count
        self.reasons[reason] += count


@dataclass
class Summary:
    """What an import did, kind by kind, and why it left things out."""

    kinds: dict = field(default_factory=lambda: defaultdict(Tally))
    errors: list = field(default_factory=list)  # "post 13 “Title”: what went wrong"
    notes: Counter = field(default_factory=Counter)  # worth knowing, not a refusal
    old_addresses: list = field(default_factory=list)  # media left on the old site

    def __getitem__(self, kind):
        return self.kinds[kind]

    def table(self):
        order = ["authors", "categories", "tags", "posts", "updates", "pages", "media files"]
        order += sorted(set(self.kinds) - set(order))
        return [(kind, self.kinds[kind]) for kind in order if kind in self.kinds]


def fingerprint(values):
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def local_zone(item):
    """The old site's offset from UTC when the item was dated (WordPress stores both)."""
    if item.post_date and item.post_date_gmt:
        offset = item.post_date - item.post_date_gmt.replace(tzinfo=None)
        if abs(offset) <= timedelta(hours=14):
            return fixed_zone(offset)
    return None


def plain(html):
    """Exported titles and excerpts are HTML: readers get their text."""
    return clean_text(" ".join(unescape(strip_tags(html or "")).split()))


def decoded_path(url):
    """The path of an address as Django hands it to views: percent-decoded, with a
    WordPress query form (`/?p=6`) kept as written."""
    parts = urlsplit(url)
    path = unquote(parts.path) or "/"
    if parts.query and path == "/":
        return f"/?{parts.query}"
    return path


class Importer:
    """Reads one parsed export into the database; see import_wxr for the options."""

    def __init__(self, export, uploads=None, update=False, dry_run=False, progress=None):
        self.export = export
        self.uploads = Path(uploads).resolve() if uploads else None
        self.overwrite = update
        self.dry_run = dry_run
        self.progress = progress or (lambda done, total: None)
        self.site = (export.site.base_site_url or export.site.link or "").rstrip("/")[:200]
        self.hosts = {
            urlsplit(url).netloc.lower()
            for url in (export.site.base_site_url, export.site.base_blog_url, export.site.link)
            if url
        }
        self.hosts |= {f"www.{host}" for host in self.hosts} | {
            host.removeprefix("www.") for host in self.hosts
        }
        self.summary = Summary()
        self.users = {}  # login -> user
        self.categories = {}  # slug -> Category
        self.depth = {}  # slug -> how deep the section sits
        self.attachments = {item.wp_id: item for item in export.attachments}
        self.copied = {}  # uploads path -> our address, or None when it cannot be copied

    # --- The whole run ---------------------------------------------------------------

    def run(self):
        try:
            with transaction.atomic():
                self.import_all()
                if self.dry_run:
                    transaction.set_rollback(True)
        finally:
            # Each save made cached pages stale already, and bulk writes do too; but what
            # was computed during a dry run, now rolled back, must not be served either.
            content_changed(shared=True)
        return self.summary

    def import_all(self):
        with transaction.atomic():
            self.import_authors()
            self.import_categories()
            self.import_tags()
        items = self.export.posts + self.export.pages
        self.progress(0, len(items))
        for done, item in enumerate(items, start=1):
            self.import_item(item)
            self.progress(done, len(items))
        self.link_attachment_pages()
        self.count_the_rest()

    def import_item(self, item):
        kind = "posts" if item.post_type == "post" else "pages"
        try:
            content = self.content_of(item)
            # One revision per post, as an editor's save makes (blog/history.py).
            with transaction.atomic(), reversion.create_revision():
                reversion.set_comment("Imported from WordPress")
                if item.post_type == "post":
                    self.import_post(item, content)
                else:
                    self.import_page(item, content)
        except FAILURES as error:
            message = "; ".join(getattr(error, "messages", None) or [str(error)])
            self.summary.errors.append(
                f"{kind[:-1]} {item.wp_id} “{plain(item.title) or '(no title)'}”: {message}"
            )
            self.summary[kind].skip("failed (see the errors)")

    def record(self, kind, key, obj=None, state=None, **fields):
        WordPressItem.objects.update_or_create(
            site=self.site,
            kind=kind,
            key=str(key)[:255],
            defaults={
                "object_id": obj.pk if obj is not None else None,
                "fingerprint": state or "",
                **fields,
            },
        )

    def recorded(self, kind, key):
        return WordPressItem.objects.filter(site=self.site, kind=kind, key=str(key)[:255]).first()

    # --- Authors, sections and tags --------------------------------------------------

    def import_authors(self):
        User = get_user_model()
        tally = self.summary["authors"]
        authors = {author.login: author for author in self.export.authors}
        for login in {item.creator for item in self.export.items if item.creator} - set(authors):
            authors[login] = None  # named by a post, missing from the author list
        for login, author in authors.items():
            mapped = self.recorded(Kind.AUTHOR, login)
            user = mapped and User.objects.filter(pk=mapped.object_id).first()
            if user is not None:
                self.users[login] = user
                tally.unchanged += 1
                continue
            email = (author.email if author else "").strip()
            user = email and User.objects.filter(email__iexact=email).first()
            if user:
                tally.unchanged += 1
                self.summary.notes["authors matched to an existing account by e-mail address"] += 1
            else:
                user = self.new_user(login, author)
                tally.created += 1
            self.users[login] = user
            self.record(Kind.AUTHOR, login, user)

    def new_user(self, login, author):
        User = get_user_model()
        base = (slugify(login) or "wordpress-author")[:140]
        username, n = base, 2
        while User.objects.filter(username__iexact=username).exists():
            username, n = f"{base}-{n}", n + 1
        # Bylines keep the name readers knew: WordPress's display name.
        shown = " ".join((author.display_name if author else "").split())
        first, _, last = shown.rpartition(" ") if " " in shown else (shown, "", "")
        if not shown and author:
            first, last = author.first_name, author.last_name
        user = User(
            username=username,
            email=(author.email if author else "")[:254],
            first_name=clean_text(first)[:150],
            last_name=clean_text(last)[:150],
            is_staff=True,
            # Nobody can sign in as an imported author until an editor activates the
            # account and the author sets a password (the admin's password reset).
            is_active=False,
        )
        user.set_unusable_password()
        user.save()
        return user

    def import_categories(self):
        tally = self.summary["categories"]
        terms = {term.slug: term for term in self.export.categories}
        for term in self.export.categories:
            slug = self.term_slug(term.slug, term.name, 100)
            key = term.term_id if term.term_id is not None else f"slug:{term.slug}"
            mapped = self.recorded(Kind.CATEGORY, key)
            category = mapped and Category.objects.filter(pk=mapped.object_id).first()
            if category is None:
                category = Category.objects.filter(slug=slug).first()
                if category is None:
                    category = Category.objects.create(
                        name=plain(term.name)[:100] or slug,
                        slug=slug,
                        description=plain(term.description),
                    )
                    tally.created += 1
                else:
                    tally.unchanged += 1
                    self.summary.notes["categories matched to an existing section by slug"] += 1
                self.record(Kind.CATEGORY, key, category)
            else:
                tally.unchanged += 1
            self.categories[term.slug] = category
        # Parents, once every section exists; a loop in the export is cut where it closes.
        for term in self.export.categories:
            category = self.categories[term.slug]
            parent = self.categories.get(term.parent) if term.parent else None
            if parent is not None and category.parent_id is None and parent != category:
                ancestors, seen = parent, set()
                while ancestors is not None and ancestors.pk not in seen:
                    seen.add(ancestors.pk)
                    ancestors = ancestors.parent
                if category.pk not in seen:
                    category.parent = parent
                    category.save(update_fields=["parent"])
        for slug, term in terms.items():
            category = self.categories[slug]
            self.depth[slug] = len(Category.lineage(category.pk))
            if term.term_id is not None:
                self.address(f"/?cat={term.term_id}", category=category)
            old = self.category_path(slug, terms)
            if old != unquote(category.get_absolute_url()):
                self.address(old, category=category)

    def category_path(self, slug, terms):
        """WordPress's address for a section: /category/parent/child/."""
        chain, seen = [], set()
        while slug and slug in terms and slug not in seen:
            seen.add(slug)
            chain.append(unquote(slug))
            slug = terms[slug].parent
        return "/category/" + "/".join(reversed(chain)) + "/"

    def term_slug(self, slug, name, max_length):
        slug = unquote(slug or "").strip().lower()
        if not UNICODE_SLUG.match(slug):
            slug = slugify(name, allow_unicode=True) or slugify(unquote(slug), allow_unicode=True)
        return (slug or "section")[:max_length]

    def import_tags(self):
        tally = self.summary["tags"]
        self.tags = {}
        for term in self.export.tags:
            tag, created = self.tag(term.slug, term.name)
            if tag is None:
                tally.skip("no usable name")
                continue
            self.tags[term.slug] = tag
            if created:
                tally.created += 1
            else:
                tally.unchanged += 1

    def tag(self, slug, name):
        """The tag with this slug or name, made if there is none: (tag, created)."""
        name = plain(name)[:100]
        slug = self.term_slug(slug, name, 100)
        if not name:
            return None, False
        tag = Tag.objects.filter(slug=slug).first() or Tag.objects.filter(name=name).first()
        if tag is not None:
            return tag, False
        return Tag.objects.create(name=name, slug=slug), True

    # --- Posts -----------------------------------------------------------------------

    def content_of(self, item):
        """The item's Markdown, with uploads copied here and links to the old site made
        relative; done before the item's transaction, so files are copied once."""
        markdown = to_markdown(item.content, self.rewrite_url)
        thumbnail = self.attachments.get(item.thumbnail_id)
        image = None
        if thumbnail is not None:
            url = thumbnail.attachment_url or (
                f"{self.site}{UPLOADS}{thumbnail.attached_file}" if thumbnail.attached_file else ""
            )
            image = url and self.copy_upload(url)
        return {"markdown": markdown, "image": image, "thumbnail": thumbnail}

    def import_post(self, item, content):
        tally = self.summary["posts"]
        if item.status not in STATUSES:
            tally.skip(f"WordPress status “{item.status}” (trash, auto-draft…) is not imported")
            return
        mapped = self.recorded(Kind.POST, item.wp_id)
        post = mapped and Post.objects.filter(pk=mapped.object_id).first()
        if mapped and post is None and not self.overwrite:
            tally.skip("deleted in Dateline since the last import (--update brings it back)")
            return
        source = self.source_fingerprint(item, content)
        if post is not None:
            edited = self.fingerprint(post) != mapped.fingerprint
            if edited and not self.overwrite:
                tally.skip("edited in Dateline since the last import (--update overwrites)")
                return
            if not edited and source == mapped.source_fingerprint:
                tally.unchanged += 1
                self.summary["updates"].unchanged += post.updates.count()
                return
        values, updates = self.post_values(item, content)
        created = post is None
        if created:
            post = Post(guid=self.guid(item), slug=self.post_slug(item))
        for name, value in values.items():
            setattr(post, name, value)
        if content["image"]:
            post.image = content["image"]["name"]
            post.image_alt = plain(content["thumbnail"].alt_text)[:300]
        post.full_clean(exclude=["image", "guid"], validate_unique=False)
        post.save()
        if created:
            # WordPress's dates: when it was written and last changed. (Not on a later
            # import: cached fragments are keyed by modified_at, which must move on.)
            when = self.item_date(item) or timezone.now()
            Post.objects.filter(pk=post.pk).update(
                created_at=when, modified_at=max(item.modified_gmt or when, when)
            )
            post.refresh_from_db()
        post.tags.set(self.post_tags(item, post))
        self.import_updates(item, post, updates)
        self.post_addresses(item, post)
        post.refresh_from_db()
        self.record(Kind.POST, item.wp_id, post, self.fingerprint(post), source_fingerprint=source)
        if created:
            tally.created += 1
            self.summary.notes[self.status_note(item)] += 1
        else:
            tally.updated += 1

    def source_fingerprint(self, item, content):
        """What the export says of the item, as this import reads it (media included)."""
        return fingerprint(
            {
                "title": item.title,
                "slug": item.slug,
                "markdown": content["markdown"],
                "image": content["image"],
                "excerpt": item.excerpt,
                "status": item.status,
                "password": bool(item.password),
                "date": item.post_date_gmt or item.post_date,
                "creator": item.creator,
                "categories": item.categories,
                "tags": item.tags,
            }
        )

    def status_note(self, item):
        if item.status == "publish" and item.password:
            return "password-protected posts imported as drafts (Dateline has no passwords)"
        if item.status == "future":
            return "scheduled posts imported as scheduled"
        if item.status == "publish":
            return "published posts imported as published"
        return f"{item.status} posts imported as drafts"

    def post_values(self, item, content):
        status = STATUSES[item.status]
        if item.status == "publish" and item.password:
            status = Post.Status.DRAFT  # not for everyone's eyes: an editor decides
        body, found = split_updates(content["markdown"])
        body = body.strip() or "*(This post was empty in WordPress.)*"
        when = self.item_date(item)
        updates = self.update_times(item, found)
        values = {
            "title": plain(item.title)[:200] or "(untitled)",
            "author": self.author_of(item),
            "category": self.category_of(item),
            "excerpt": plain(item.excerpt),
            "body": body,
            "status": status,
            # Drafts get their date when an editor publishes them.
            "published_at": when if item.status in DATED else None,
            "is_developing": False,
            "developing_ended_at": None,
        }
        if updates or has_more_line(content["markdown"]):
            # The thread of an imported story is over: shown whole, no longer polled.
            last = max([at for _, at, _ in updates] + [item.modified_gmt or when or timezone.now()])
            values["developing_ended_at"] = last
        return values, updates

    def update_times(self, item, found):
        """[(kind, published_at, body)]: each update at the moment its text gives, else
        a minute after the one before it (the post's date for the first)."""
        zone = local_zone(item) or UTC
        start = self.item_date(item) or timezone.now()
        local_start = start.astimezone(zone)
        moments, previous = [], start
        for update in found:
            at = parse_time_hint(update.time_hint, local_start)
            if at is None:
                day = parse_date_hint(update.time_hint, local_start)
                at = previous + timedelta(minutes=1)
                if day is not None:
                    at = max(at, datetime.combine(day, datetime.min.time(), zone))
            at = at.astimezone(UTC)
            moments.append((update.kind, at, update.body.strip() or update.heading_text))
            previous = at
        return moments

    def item_date(self, item):
        """When WordPress dated the item, in UTC; drafts it never dated have only a
        local time, read with the offset the export's other items show."""
        if item.post_date_gmt:
            return item.post_date_gmt
        if item.post_date:
            return item.post_date.replace(tzinfo=self.site_zone)
        return None

    @cached_property
    def site_zone(self):
        """The old site's usual offset from UTC, as the export's dated items show it."""
        offsets = Counter(
            zone for item in self.export.items if (zone := local_zone(item)) is not None
        )
        return offsets.most_common(1)[0][0] if offsets else UTC

    def author_of(self, item):
        user = self.users.get(item.creator)
        if user is None:
            # An item without an author: the first author of the export, else a new one.
            user = next(iter(self.users.values()), None) or self.new_user("wordpress", None)
        return user

    def category_of(self, item):
        """The post's section: its most specific WordPress category (a post sits in one
        section here; its other categories become tags)."""
        known = [slug for slug, _ in item.categories if slug in self.categories]
        if not known:
            category = Category.objects.filter(slug="uncategorized").first()
            if category is None:
                category = Category.objects.create(name="Uncategorized", slug="uncategorized")
                self.summary["categories"].created += 1
            return category
        deepest = max(known, key=lambda slug: self.depth.get(slug, 1))
        return self.categories[deepest]

    def post_tags(self, item, post):
        tags = []
        for slug, name in item.tags:
            tag = self.tags.get(slug) or self.tag(slug, name)[0]
            if tag is not None:
                tags.append(tag)
        # A broader section the post's one sits in already lists it: no tag for that.
        around = {category.pk for category in Category.lineage(post.category_id)}
        others = [slug for slug, _ in item.categories if slug in self.categories]
        for slug in others:
            category = self.categories[slug]
            if category.pk not in around:
                tag, created = self.tag(category.slug, category.name)
                if created:
                    self.summary["tags"].created += 1
                if tag is not None:
                    tags.append(tag)
                    self.summary.notes["further categories of a post kept as its tags"] += 1
        return list(dict.fromkeys(tags))

    def import_updates(self, item, post, updates):
        tally = self.summary["updates"]
        earlier = WordPressItem.objects.filter(
            site=self.site, kind=Kind.UPDATE, key__startswith=f"{item.wp_id}#"
        )
        Update.objects.filter(post=post, pk__in=earlier.values("object_id")).delete()
        earlier.delete()
        for index, (kind, at, body) in enumerate(updates):
            update = Update(post=post, kind=kind, published_at=at, body=body, author=post.author)
            update.full_clean(validate_unique=False)
            update.save()
            Update.objects.filter(pk=update.pk).update(modified_at=at)
            self.record(Kind.UPDATE, f"{item.wp_id}#{index}", update)
            tally.created += 1

    def post_slug(self, item):
        slug = unquote(item.slug or "").strip()
        if slug and UNICODE_SLUG.match(slug) and len(slug) <= 200:
            if not Post.objects.filter(slug=slug).exists():
                return slug
            self.summary.notes["posts given a new slug: theirs was taken (old address kept)"] += 1
        return unique_slug(Post, slug or plain(item.title) or f"post-{item.wp_id}")

    def guid(self, item):
        """WordPress's guid stays the feed id: subscribers do not see old posts as new."""
        guid = (item.guid or "").strip()[:255]
        if not guid or Post.objects.filter(guid=guid).exists():
            return ""
        return guid

    def fingerprint(self, post):
        """What the import wrote of a post; a change means an editor touched it."""
        return fingerprint(self.post_state(post, post.updates.order_by("published_at", "id")))

    @staticmethod
    def post_state(post, updates):
        return {
            "title": post.title,
            "slug": post.slug,
            "excerpt": post.excerpt,
            "body": post.body,
            "status": post.status,
            "published_at": post.published_at,
            "author": post.author_id,
            "category": post.category_id,
            "tags": sorted(post.tags.names()) if post.pk else [],
            "image": post.image.name or "",
            "updates": [
                [update.kind, update.published_at.isoformat(), update.body] for update in updates
            ],
        }

    # --- Old addresses ---------------------------------------------------------------

    def post_addresses(self, item, post):
        paths = {f"/?p={item.wp_id}"}
        if item.link:
            paths.add(decoded_path(item.link))
        date = item.post_date or self.item_date(item)
        slugs = [unquote(item.slug)] if item.slug else []
        slugs += item.old_slugs
        if date:
            for slug in filter(None, slugs):
                paths.add(f"/{date:%Y/%m}/{slug}/")
                paths.add(f"/{date:%Y/%m/%d}/{slug}/")
        paths.add(f"/archives/{item.wp_id}")
        here = unquote(post.get_absolute_url())
        for path in sorted(paths - {here}):
            self.address(path, post=post)

    def address(self, path, **target):
        if not path or len(path) > 500 or "\x00" in path:
            return
        LegacyAddress.objects.get_or_create(path=path, defaults=target)

    def link_attachment_pages(self):
        """An attachment's page led to its picture: now it leads to the post showing it."""
        posts = {
            mapped.key: mapped.object_id
            for mapped in WordPressItem.objects.filter(site=self.site, kind=Kind.POST)
        }
        for item in self.export.attachments:
            post_id = posts.get(str(item.parent_id))
            post = post_id and Post.objects.filter(pk=post_id).first()
            with transaction.atomic():
                paths = [f"/?attachment_id={item.wp_id}"]
                if item.link:
                    paths.append(decoded_path(item.link))
                for path in paths:
                    if post:
                        self.address(path, post=post)
                    elif copied := self.copied.get(self.upload_path(item.attachment_url)):
                        self.address(path, target=copied["url"])

    # --- Pages -----------------------------------------------------------------------

    def import_page(self, item, content):
        tally = self.summary["pages"]
        if item.status != "publish" or item.password:
            state = "password-protected" if item.password else item.status
            tally.skip(f"{state} pages are not imported (flat pages are public)")
            return
        url = decoded_path(item.link) if item.link else ""
        if not url.startswith("/") or url.startswith("/?"):
            url = f"/{unquote(item.slug or '') or f'page-{item.wp_id}'}/"
        url = url[:100]
        mapped = self.recorded(Kind.PAGE, item.wp_id)
        page = mapped and FlatPage.objects.filter(pk=mapped.object_id).first()
        if page is None and not self.page_address_free(url):
            tally.skip("its address belongs to one of Dateline's own pages")
            return
        if page is None and FlatPage.objects.filter(url=url).exists():
            tally.skip("a flat page already has its address")
            return
        source = self.source_fingerprint(item, content)
        if page is not None:
            edited = fingerprint({"title": page.title, "content": page.content}) != (
                mapped.fingerprint
            )
            if edited and not self.overwrite:
                tally.skip("edited in Dateline since the last import (--update overwrites)")
                return
            if not edited and source == mapped.source_fingerprint:
                tally.unchanged += 1
                return
        created = page is None
        page = page or FlatPage(url=url)
        page.title = plain(item.title)[:200] or url
        page.content = render(content["markdown"], Source.objects.preview_attribution).html
        page.save()
        page.sites.add(settings.SITE_ID)
        page.refresh_from_db()
        self.address(f"/?page_id={item.wp_id}", page=page)
        if url != decoded_path(item.link or url):
            self.address(decoded_path(item.link), page=page)
        self.record(
            Kind.PAGE,
            item.wp_id,
            page,
            fingerprint({"title": page.title, "content": page.content}),
            source_fingerprint=source,
        )
        if created:
            tally.created += 1
        else:
            tally.updated += 1

    @staticmethod
    def page_address_free(url):
        try:
            match = resolve(url)
        except Resolver404:
            return True
        return match.url_name == "page"

    # --- Media -----------------------------------------------------------------------

    def upload_path(self, url):
        """The file's path under wp-content/uploads if the address is the old site's."""
        parts = urlsplit(url or "")
        if parts.netloc and parts.netloc.lower() not in self.hosts:
            return None
        path = unquote(parts.path)
        if UPLOADS not in path:
            return None
        return path.split(UPLOADS, 1)[1]

    def rewrite_url(self, url):
        relative = self.upload_path(url)
        if relative is not None:
            copied = self.copy_upload(url)
            return copied["url"] if copied else None
        parts = urlsplit(url)
        if parts.netloc.lower() in self.hosts and parts.scheme in ("http", "https"):
            # A link to the old site's own pages: here they answer, or redirect.
            return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
        return None

    def copy_upload(self, url):
        """{"name", "url"} of the upload's copy in our storage, made once; None when it
        stays where it is (no --uploads, missing, not an image), noted in the summary."""
        relative = self.upload_path(url)
        if relative is None:
            return None
        if relative in self.copied:
            return self.copied[relative]
        tally = self.summary["media files"]
        mapped = self.recorded(Kind.FILE, relative)
        found = None
        if mapped and mapped.stored_name and default_storage.exists(mapped.stored_name):
            found = {"name": mapped.stored_name, "url": default_storage.url(mapped.stored_name)}
            tally.unchanged += 1
        elif self.uploads is None:
            tally.skip("left at the old site's address (no --uploads folder given)")
            self.summary.old_addresses.append(url)
        else:
            found = self.copy_file(relative, url, tally)
        self.copied[relative] = found
        return found

    def copy_file(self, relative, url, tally):
        path = (self.uploads / relative).resolve()
        if not path.is_relative_to(self.uploads) or not path.is_file():
            tally.skip("not found in the --uploads folder (left at the old address)")
            self.summary.old_addresses.append(url)
            return None
        try:
            with path.open("rb") as handle:
                cleaned = clean_upload(File(handle, name=path.name))
        except ValidationError as error:
            tally.skip("not an image Dateline accepts (left at the old address)")
            self.summary.errors.append(f"file {relative}: {' '.join(error.messages)}")
            self.summary.old_addresses.append(url)
            return None
        tally.created += 1
        if self.dry_run:
            return None  # a dry run copies nothing
        folder = "/".join(relative.split("/")[:-1])
        name = default_storage.save(
            f"wordpress/{folder}/{cleaned.name}".replace("//", "/"), cleaned
        )
        with transaction.atomic():
            self.record(Kind.FILE, relative, stored_name=name)
        return {"name": name, "url": default_storage.url(name)}

    # --- What is not imported --------------------------------------------------------

    def count_the_rest(self):
        comments = sum(item.comment_count for item in self.export.items)
        if comments:
            self.summary["comments"].skip("Dateline has no comments", comments)
        for item in self.export.other_items:
            self.summary["other items"].skip(
                f"WordPress “{item.post_type}” items have no equivalent"
            )
        for item in self.export.attachments:
            original = self.upload_path(item.attachment_url) or item.attached_file
            stem, dot, extension = original.rpartition(".")
            # WordPress's resized copies are named after the original: photo-300x169.jpg.
            sizes = re.compile(rf"{re.escape(stem)}(?:-\d+x\d+)?{re.escape(dot + extension)}")
            if not any(sizes.fullmatch(path) for path in self.copied):
                self.summary["attachments"].skip("not shown by any imported post")
