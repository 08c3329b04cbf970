"""Reads a WordPress WXR export (1.0/1.1/1.2) into plain dataclasses."""

import html
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
_WP_NS = re.compile(r"^http://wordpress\.org/export/(\d+\.\d+)/$")
_EXCERPT_NS = re.compile(r"^http://wordpress\.org/export/\d+\.\d+/excerpt/$")
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class WXRError(ValueError):
    """The file cannot be read as a WordPress export."""


@dataclass
class Site:
    title: str
    link: str
    description: str
    base_site_url: str
    base_blog_url: str
    wxr_version: str
    language: str


@dataclass
class Author:
    wp_id: int | None
    login: str
    email: str
    display_name: str
    first_name: str
    last_name: str


@dataclass
class Term:
    """A category (which may name a parent by its slug) or a tag (never has one)."""

    term_id: int | None
    slug: str
    name: str
    description: str = ""
    parent: str | None = None


@dataclass
class Item:
    wp_id: int
    post_type: str
    title: str
    link: str
    guid: str
    creator: str
    content: str
    excerpt: str
    post_date: datetime | None
    post_date_gmt: datetime | None
    modified_gmt: datetime | None
    status: str
    slug: str
    parent_id: int | None
    menu_order: int
    is_sticky: bool
    password: str
    categories: list[tuple[str, str]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    postmeta: dict[str, list[str]] = field(default_factory=dict)
    attachment_url: str = ""
    comment_count: int = 0

    def meta(self, key, default=""):
        """The first value stored under `key` (WordPress allows several)."""
        values = self.postmeta.get(key)
        return values[0] if values else default

    @property
    def attached_file(self):
        return self.meta("_wp_attached_file")

    @property
    def alt_text(self):
        return self.meta("_wp_attachment_image_alt")

    @property
    def thumbnail_id(self):
        value = self.meta("_thumbnail_id")
        return int(value) if value.isdigit() else None

    @property
    def old_slugs(self):
        return [unquote(slug) for slug in self.postmeta.get("_wp_old_slug", [])]


@dataclass
class Export:
    site: Site
    authors: list[Author]
    categories: list[Term]
    tags: list[Term]
    items: list[Item]

    @property
    def posts(self):
        return [item for item in self.items if item.post_type == "post"]

    @property
    def pages(self):
        return [item for item in self.items if item.post_type == "page"]

    @property
    def attachments(self):
        return [item for item in self.items if item.post_type == "attachment"]

    @property
    def other_items(self):
        kinds = ("post", "page", "attachment")
        return [item for item in self.items if item.post_type not in kinds]


def parse(source):
    """Read an export from a path or a binary file object; raise WXRError if it is not one."""
    name = _source_name(source)
    try:
        # WordPress never writes a DTD, so refusing any DTD stops entity-expansion bombs and
        # external entities before a single entity is declared.
        tree = SafeET.parse(source, forbid_dtd=True)
    except DefusedXmlException as error:
        raise WXRError(
            f"{name}: refused unsafe XML ({type(error).__name__}): the file declares a "
            "<!DOCTYPE>, entities or external references, which a WordPress export never "
            "does and which entity-expansion and external-entity attacks rely on"
        ) from error
    except ParseError as error:
        line, column = getattr(error, "position", (None, None))
        raise WXRError(
            f"{name}: not well-formed XML at line {line}, column {column} ({error}); "
            "the file may be truncated or not a WordPress export"
        ) from error
    except OSError as error:
        raise WXRError(f"{name}: cannot read the file ({error})") from error
    return _read_export(tree.getroot(), name)


def _source_name(source):
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return getattr(source, "name", None) or "WXR export"


def _read_export(root, name):
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise WXRError(f"{name}: not a WordPress export (expected <rss><channel>)")
    wp_ns, ns_version, excerpt_ns = _namespaces(root)
    if wp_ns is None:
        raise WXRError(
            f"{name}: not a WordPress export (no http://wordpress.org/export/ namespace)"
        )
    if ns_version not in SUPPORTED_VERSIONS:
        raise WXRError(
            f"{name}: unsupported WXR namespace {wp_ns} "
            f"(this importer reads versions {', '.join(SUPPORTED_VERSIONS)})"
        )
    reader = _Reader(wp_ns, excerpt_ns)
    version = reader.wp(channel, "wxr_version") or ns_version
    if version not in SUPPORTED_VERSIONS:
        raise WXRError(
            f"{name}: unsupported WXR version {version!r} "
            f"(this importer reads versions {', '.join(SUPPORTED_VERSIONS)})"
        )
    site = Site(
        title=_text(channel, "title"),
        link=_text(channel, "link"),
        description=_text(channel, "description"),
        base_site_url=reader.wp(channel, "base_site_url"),
        base_blog_url=reader.wp(channel, "base_blog_url"),
        wxr_version=version,
        language=_text(channel, "language"),
    )
    return Export(
        site=site,
        authors=[reader.author(node) for node in channel.iter(f"{{{wp_ns}}}author")],
        categories=[reader.category(node) for node in channel.iter(f"{{{wp_ns}}}category")],
        tags=[reader.tag(node) for node in channel.iter(f"{{{wp_ns}}}tag")],
        items=[reader.item(node, name) for node in channel.iter("item")],
    )


def _namespaces(root):
    """The wp namespace with its version, and the excerpt namespace, as the file uses them."""
    wp_ns = ns_version = excerpt_ns = None
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith("{"):
            continue
        namespace = element.tag[1:].partition("}")[0]
        if wp_ns is None and (match := _WP_NS.match(namespace)):
            wp_ns, ns_version = namespace, match.group(1)
        elif excerpt_ns is None and _EXCERPT_NS.match(namespace):
            excerpt_ns = namespace
        if wp_ns and excerpt_ns:
            break
    return wp_ns, ns_version, excerpt_ns


def _text(parent, tag):
    child = parent.find(tag)
    if child is None or child.text is None:
        return ""
    return child.text.strip()


def _int(value):
    value = value.strip()
    return int(value) if value.lstrip("-").isdigit() else None


def _datetime(value, *, aware=False):
    """WordPress writes 0000-00-00 00:00:00 for dates it never set (e.g. undated drafts)."""
    value = value.strip()
    if not value or value.startswith("0000-00-00"):
        return None
    try:
        moment = datetime.strptime(value, _DATE_FORMAT)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if aware else moment


def _term_name(value):
    # WordPress stores term names HTML-escaped ("Arts &amp; Culture") and exports them as such.
    return html.unescape(value)


class _Reader:
    def __init__(self, wp_ns, excerpt_ns):
        self.wp_ns = wp_ns
        self.excerpt_ns = excerpt_ns

    def wp(self, parent, tag):
        return _text(parent, f"{{{self.wp_ns}}}{tag}")

    def author(self, node):
        return Author(
            wp_id=_int(self.wp(node, "author_id")),
            login=self.wp(node, "author_login"),
            email=self.wp(node, "author_email"),
            display_name=self.wp(node, "author_display_name"),
            first_name=self.wp(node, "author_first_name"),
            last_name=self.wp(node, "author_last_name"),
        )

    def category(self, node):
        return Term(
            term_id=_int(self.wp(node, "term_id")),
            slug=unquote(self.wp(node, "category_nicename")),
            name=_term_name(self.wp(node, "cat_name")),
            description=self.wp(node, "category_description"),
            parent=unquote(self.wp(node, "category_parent")) or None,
        )

    def tag(self, node):
        return Term(
            term_id=_int(self.wp(node, "term_id")),
            slug=unquote(self.wp(node, "tag_slug")),
            name=_term_name(self.wp(node, "tag_name")),
            description=self.wp(node, "tag_description"),
        )

    def item(self, node, name):
        wp_id = _int(self.wp(node, "post_id"))
        if wp_id is None:
            title = _text(node, "title")
            raise WXRError(f"{name}: item {title!r} has no wp:post_id")
        return Item(
            wp_id=wp_id,
            post_type=self.wp(node, "post_type") or "post",
            title=_text(node, "title"),
            link=_text(node, "link"),
            guid=_text(node, "guid"),
            creator=_text(node, f"{{{DC_NS}}}creator"),
            content=self._raw(node, f"{{{CONTENT_NS}}}encoded"),
            excerpt=self._raw(node, f"{{{self.excerpt_ns}}}encoded") if self.excerpt_ns else "",
            post_date=_datetime(self.wp(node, "post_date")),
            post_date_gmt=_datetime(self.wp(node, "post_date_gmt"), aware=True),
            modified_gmt=_datetime(self.wp(node, "post_modified_gmt"), aware=True),
            status=self.wp(node, "status"),
            slug=unquote(self.wp(node, "post_name")),
            parent_id=_int(self.wp(node, "post_parent")) or None,
            menu_order=_int(self.wp(node, "menu_order")) or 0,
            is_sticky=self.wp(node, "is_sticky") == "1",
            password=self.wp(node, "post_password"),
            categories=self._terms(node, "category"),
            tags=self._terms(node, "post_tag"),
            postmeta=self._postmeta(node),
            attachment_url=self.wp(node, "attachment_url"),
            comment_count=len(node.findall(f"{{{self.wp_ns}}}comment")),
        )

    def _raw(self, node, tag):
        # Bodies keep their whitespace: blank lines are paragraph breaks in classic-editor posts.
        child = node.find(tag)
        return "" if child is None or child.text is None else child.text

    def _terms(self, node, domain):
        terms = []
        for element in node.findall("category"):
            if element.get("domain") == domain:
                name = _term_name((element.text or "").strip())
                terms.append((unquote(element.get("nicename", "")), name))
        return terms

    def _postmeta(self, node):
        meta = {}
        for element in node.findall(f"{{{self.wp_ns}}}postmeta"):
            key = self.wp(element, "meta_key")
            value = self._raw(element, f"{{{self.wp_ns}}}meta_value")
            meta.setdefault(key, []).append(value)
        return meta
