import io
import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from blog.importers.wxr import Export, WXRError, parse

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wordpress"
EXPORT_PATH = FIXTURES / "wordpress-export.xml"
EXPECTED_PATH = FIXTURES / "wordpress-export.expected.json"


@pytest.fixture(scope="module")
def export():
    return parse(EXPORT_PATH)


@pytest.fixture(scope="module")
def expected():
    return json.loads(EXPECTED_PATH.read_text(encoding="utf-8"))


def gmt(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def test_site_is_read_from_the_channel(export, expected):
    assert export.site.title == expected["site"]["title"]
    assert export.site.description == expected["site"]["tagline"]
    assert export.site.base_site_url == expected["site"]["url"]
    assert export.site.base_blog_url == expected["site"]["url"]
    assert export.site.wxr_version == expected["site"]["wxr_version"]
    assert export.site.language == "en-US"


def test_counts_match_the_expected_import(export, expected):
    counts = expected["counts"]
    assert len(export.posts) == counts["posts_in_export"]
    assert Counter(post.status for post in export.posts) == counts["posts_by_wp_status"]
    assert len(export.pages) == counts["pages"]
    assert len(export.attachments) == counts["attachments"]
    assert len(export.other_items) == counts["other_items"]
    assert len(export.authors) == counts["authors"]
    assert len(export.categories) == counts["categories"]
    assert len(export.tags) == counts["tags"]
    assert sum(item.comment_count for item in export.items) == counts["comments_in_export"]


def test_authors_keep_login_email_and_names(export, expected):
    authors = {author.login: author for author in export.authors}
    for want in expected["authors"]:
        author = authors[want["login"]]
        assert author.wp_id == want["wp_id"]
        assert author.email == want["email"]
        assert author.display_name == want["display_name"]
        assert author.first_name == want["first_name"]
        assert author.last_name == want["last_name"]


def test_every_category_has_its_parent_and_description(export, expected):
    categories = {term.slug: term for term in export.categories}
    assert set(categories) == {want["slug"] for want in expected["categories"]}
    for want in expected["categories"]:
        term = categories[want["slug"]]
        assert term.term_id == want["wp_term_id"]
        assert term.name == want["name"]
        assert term.parent == want["parent"]
        assert term.description == want["description"]


def test_category_parents_rebuild_the_expected_tree(export, expected):
    def children(parent):
        return {
            term.slug: children(term.slug) for term in export.categories if term.parent == parent
        }

    def tree(nodes):
        return {node["slug"]: tree(node["children"]) for node in nodes}

    assert children(None) == tree(expected["category_tree"])


def test_every_tag_has_its_slug_name_and_description(export, expected):
    tags = {term.slug: term for term in export.tags}
    assert set(tags) == {want["slug"] for want in expected["tags"]}
    for want in expected["tags"]:
        assert tags[want["slug"]].term_id == want["wp_term_id"]
        assert tags[want["slug"]].name == want["name"]
        assert tags[want["slug"]].parent is None
    assert tags["budget"].description == "The state and city budgets, and the holes in them."


def test_every_post_matches_the_expected_json(export, expected):
    posts = {post.wp_id: post for post in export.posts}
    assert set(posts) == {want["wp_id"] for want in expected["posts"]}
    for want in expected["posts"]:
        post = posts[want["wp_id"]]
        assert post.title == want["title"]
        assert post.slug == want["slug_decoded"]
        assert post.status == want["wp_status"]
        assert post.post_date == datetime.fromisoformat(want["date_local"])
        assert post.post_date_gmt == gmt(want["date_gmt"])
        assert (post.post_date_gmt is None) == want["date_gmt_missing"]
        assert post.modified_gmt == gmt(want["modified_gmt"])
        assert post.link == want["wxr_link"]
        assert post.creator == want["author_login"]
        assert sorted(slug for slug, _ in post.categories) == sorted(want["categories"])
        assert sorted(slug for slug, _ in post.tags) == sorted(want["tags"])
        assert post.is_sticky == want["sticky"]
        assert bool(post.password) == want["password_protected"]
        assert post.excerpt.strip() == (want["excerpt"] or "")
        assert post.comment_count == want["comments_in_export"]
        assert post.thumbnail_id == want["featured_image_wp_id"]


def test_percent_encoded_slug_is_decoded(export):
    post = next(post for post in export.posts if post.wp_id == 22)
    assert post.slug == "αθήνα-notebook-the-ministrys-quiet-week"
    assert "%ce%b1%ce%b8" in post.link


def test_undated_drafts_have_no_gmt_date_but_keep_the_local_one(export):
    drafts = [post for post in export.posts if post.status == "draft"]
    assert drafts
    assert all(post.post_date_gmt is None and post.post_date for post in drafts)
    assert all(post.post_date.tzinfo is None for post in export.items)
    dated = [post.post_date_gmt for post in export.items if post.post_date_gmt]
    assert all(moment.tzinfo is UTC for moment in dated)


def test_body_is_raw_html_with_its_blank_lines(export):
    post = next(post for post in export.posts if post.wp_id == 6)
    assert "<!--more-->" in post.content
    assert "\n\n" in post.content


def test_pages_keep_slug_parent_and_date(export, expected):
    pages = {page.wp_id: page for page in export.pages}
    for want in expected["pages"]:
        page = pages[want["wp_id"]]
        assert page.title == want["title"]
        assert page.slug == want["slug"]
        assert page.status == want["wp_status"]
        assert page.parent_id == want["parent_wp_id"]
        assert page.post_date_gmt == gmt(want["date_gmt"])
        assert page.creator == want["author_login"]


def test_attachments_keep_file_url_alt_and_parent(export, expected):
    attachments = {item.wp_id: item for item in export.attachments}
    for want in expected["attachments"]:
        attachment = attachments[want["wp_id"]]
        assert attachment.title == want["title"]
        assert attachment.attached_file == want["file"]
        assert attachment.attachment_url == want["url"]
        assert attachment.alt_text == want["alt"]
        assert attachment.parent_id == want["parent_wp_id"]
        assert attachment.status == "inherit"


def test_parse_accepts_an_open_binary_file():
    with EXPORT_PATH.open("rb") as handle:
        assert isinstance(parse(handle), Export)


MINIMAL_WXR_11 = b"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
    xmlns:excerpt="http://wordpress.org/export/1.1/excerpt/"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:wp="http://wordpress.org/export/1.1/">
<channel>
  <title>Tiny</title>
  <link>http://tiny.example</link>
  <description>A tiny blog</description>
  <wp:wxr_version>1.1</wp:wxr_version>
  <wp:base_site_url>http://tiny.example</wp:base_site_url>
  <wp:base_blog_url>http://tiny.example</wp:base_blog_url>
  <wp:author><wp:author_login>ed</wp:author_login></wp:author>
  <wp:category>
    <wp:term_id>3</wp:term_id>
    <wp:category_nicename>arts</wp:category_nicename>
    <wp:category_parent></wp:category_parent>
    <wp:cat_name><![CDATA[Arts &amp; Culture]]></wp:cat_name>
  </wp:category>
  <item>
    <title>Hello</title>
    <link>http://tiny.example/?p=7</link>
    <dc:creator>ed</dc:creator>
    <content:encoded><![CDATA[<p>Hi & welcome</p>]]></content:encoded>
    <excerpt:encoded><![CDATA[Hi]]></excerpt:encoded>
    <wp:post_id>7</wp:post_id>
    <wp:post_date>2011-05-01 09:00:00</wp:post_date>
    <wp:post_date_gmt>2011-05-01 08:00:00</wp:post_date_gmt>
    <wp:post_name>hello</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <category domain="category" nicename="arts"><![CDATA[Arts &amp; Culture]]></category>
    <wp:postmeta><wp:meta_key>_wp_old_slug</wp:meta_key><wp:meta_value>hi</wp:meta_value></wp:postmeta>
    <wp:postmeta><wp:meta_key>_wp_old_slug</wp:meta_key><wp:meta_value>hell%c3%b6</wp:meta_value></wp:postmeta>
  </item>
</channel>
</rss>
"""


def test_minimal_wxr_11_export_parses():
    export = parse(io.BytesIO(MINIMAL_WXR_11))
    assert export.site.wxr_version == "1.1"
    assert export.authors[0].login == "ed"
    assert export.categories[0].name == "Arts & Culture"
    [post] = export.posts
    assert post.content == "<p>Hi & welcome</p>"
    assert post.excerpt == "Hi"
    assert post.post_date_gmt == datetime(2011, 5, 1, 8, tzinfo=UTC)
    assert post.categories == [("arts", "Arts & Culture")]
    assert post.tags == []
    assert post.postmeta["_wp_old_slug"] == ["hi", "hell%c3%b6"]
    assert post.old_slugs == ["hi", "hellö"]
    assert post.menu_order == 0
    assert post.parent_id is None


def test_wxr_version_comes_from_the_namespace_when_the_element_is_missing():
    xml = MINIMAL_WXR_11.replace(b"<wp:wxr_version>1.1</wp:wxr_version>", b"")
    assert parse(io.BytesIO(xml)).site.wxr_version == "1.1"


def assert_refused(data, *words):
    started = time.monotonic()
    with pytest.raises(WXRError) as caught:
        parse(io.BytesIO(data))
    assert time.monotonic() - started < 2
    message = str(caught.value)
    for word in words:
        assert word in message
    return message


def test_entity_expansion_bomb_is_refused_not_expanded():
    levels = "\n".join(f'  <!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n  <!ENTITY lol0 "lol">\n'
        f"{levels}\n]>\n<rss><channel><title>&lol9;</title></channel></rss>"
    )
    assert_refused(bomb.encode(), "refused unsafe XML", "entity")


def test_external_entity_is_refused_not_read():
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss><channel><title>&x;</title></channel></rss>"""
    message = assert_refused(xxe, "refused unsafe XML")
    assert "root:" not in message


def test_truncated_export_is_reported_with_its_position():
    data = EXPORT_PATH.read_bytes()
    assert_refused(data[: len(data) // 2], "not well-formed XML", "line", "truncated")


def test_unknown_wxr_version_is_refused():
    data = EXPORT_PATH.read_bytes().replace(
        b"<wp:wxr_version>1.2</wp:wxr_version>", b"<wp:wxr_version>9.9</wp:wxr_version>"
    )
    assert_refused(data, "unsupported WXR version '9.9'")


def test_unknown_wordpress_namespace_is_refused():
    assert_refused(
        MINIMAL_WXR_11.replace(b"export/1.1/", b"export/9.9/"),
        "unsupported WXR namespace http://wordpress.org/export/9.9/",
    )


def test_text_that_is_not_xml_is_refused():
    assert_refused(b"post_id,title\n1,Hello\n", "not well-formed XML", "line 1")


def test_xml_that_is_not_a_wordpress_export_is_refused():
    assert_refused(b"<html><body>Hello</body></html>", "not a WordPress export")
    assert_refused(
        b'<rss version="2.0"><channel><title>Plain feed</title></channel></rss>',
        "not a WordPress export",
    )


def test_missing_file_is_reported():
    with pytest.raises(WXRError, match="cannot read"):
        parse(FIXTURES / "no-such-export.xml")
