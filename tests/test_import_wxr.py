"""`manage.py import_wxr`: a WordPress export in, a working Dateline out, every link kept."""

import json
import re
import shutil
from collections import Counter
from datetime import datetime
from html import unescape
from io import StringIO
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.flatpages.models import FlatPage
from django.core.management import CommandError, call_command
from django.utils import timezone
from taggit.models import Tag

from blog.models import Category, LegacyAddress, Post, Quote, Source, Update, WordPressItem
from tests.factories import PostFactory

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wordpress"
EXPORT = FIXTURES / "wordpress-export.xml"
UPLOADS = FIXTURES / "wordpress-uploads"
EXPECTED = json.loads((FIXTURES / "wordpress-export.expected.json").read_text("utf-8"))
POSTS = {post["wp_id"]: post for post in EXPECTED["posts"]}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def old_site_time_zone(settings):
    # The blog's own zone, as a site moving from WordPress would set it: then its
    # permalinks (which WordPress dates locally) are the same addresses here.
    settings.TIME_ZONE = EXPECTED["site"]["timezone"]


def run(*args, export=EXPORT):
    out = StringIO()
    call_command("import_wxr", str(export), *args, stdout=out)
    return out.getvalue()


def summary_rows(output):
    """{kind: (created, updated, unchanged, skipped)} from the printed table."""
    rows = {}
    for line in output.splitlines():
        found = re.fullmatch(r"(\w[\w ]*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", line.strip())
        if found:
            rows[found[1]] = tuple(int(n) for n in found.groups()[1:])
    return rows


def imported_post(wp_id):
    mapped = WordPressItem.objects.get(kind="post", key=str(wp_id))
    return Post.objects.get(pk=mapped.object_id)


def gmt(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# --- The whole blog --------------------------------------------------------------------


def test_the_summary_counts_what_was_made_and_what_was_skipped(client):
    output = run("--uploads", str(UPLOADS))
    rows = summary_rows(output)
    counts = EXPECTED["counts"]
    assert rows["authors"] == (counts["authors"], 0, 0, 0)
    assert rows["categories"] == (counts["categories"], 0, 0, 0)
    # The export's 24 tags, and "economy": a second category of two posts kept as a tag.
    assert rows["tags"] == (counts["tags"] + 1, 0, 0, 0)
    assert rows["posts"] == (counts["posts_in_export"], 0, 0, 0)
    assert rows["updates"][0] == sum(len(post["updates"]) for post in EXPECTED["posts"])
    assert rows["pages"] == (counts["pages"], 0, 0, 0)
    assert rows["comments"] == (0, 0, 0, counts["comments_in_export"])
    assert "comments: 5 Dateline has no comments" in output
    copied = {name for a in EXPECTED["attachments"] for name in a["files_in_uploads"]}
    referenced = rows["media files"][0]
    assert 0 < referenced <= len(copied)
    assert "Not imported" not in output

    assert Post.objects.count() == counts["posts_in_export"]
    statuses = Counter(
        "scheduled" if post.status == "published" and not post.is_published else post.status
        for post in Post.objects.all()
    )
    assert statuses == {"published": 26, "draft": 4, "scheduled": 1}
    assert get_user_model().objects.count() == counts["authors"]
    assert Category.objects.count() == counts["categories"]
    assert FlatPage.objects.count() == counts["pages"]


def snapshot():
    return {
        "posts": list(Post.objects.values_list("pk", "modified_at", "body_html")),
        "updates": Update.objects.count(),
        "quotes": Quote.objects.count(),
        "sources": Source.objects.count(),
        "tags": Tag.objects.count(),
        "addresses": LegacyAddress.objects.count(),
    }


def test_a_second_run_creates_nothing_and_changes_nothing():
    run("--uploads", str(UPLOADS))
    before = snapshot()
    output = run("--uploads", str(UPLOADS))
    rows = summary_rows(output)
    assert all(row[0] == 0 and row[1] == 0 for row in rows.values()), output
    assert rows["posts"][2] == EXPECTED["counts"]["posts_in_export"]
    after = snapshot()
    assert after == before


def test_a_dry_run_writes_nothing(settings):
    output = run("--dry-run", "--uploads", str(UPLOADS))
    assert "Dry run: nothing was written" in output
    assert summary_rows(output)["posts"][0] == EXPECTED["counts"]["posts_in_export"]
    assert not Post.objects.exists()
    assert not Category.objects.exists()
    assert not get_user_model().objects.exists()
    assert not Tag.objects.exists()
    assert not Source.objects.exists()
    assert not FlatPage.objects.exists()
    assert not LegacyAddress.objects.exists() and not WordPressItem.objects.exists()
    assert not Path(settings.MEDIA_ROOT).exists() or not any(Path(settings.MEDIA_ROOT).rglob("*.*"))


def test_authors_are_inactive_accounts_without_a_usable_password():
    run()
    for want in EXPECTED["authors"]:
        user = get_user_model().objects.get(username=want["login"])
        assert user.email == want["email"]
        assert user.get_full_name() == want["display_name"]  # bylines as readers knew them
        assert not user.is_active
        assert not user.has_usable_password()
        published = Post.objects.published().filter(author=user).count()
        assert published == want["published_posts"]


def test_categories_keep_their_tree_and_descriptions():
    run()
    for want in EXPECTED["categories"]:
        category = Category.objects.get(slug=want["slug"])
        assert category.name == want["name"]
        assert category.description == want["description"]
        assert (category.parent.slug if category.parent else None) == want["parent"]


def test_posts_keep_titles_slugs_dates_authors_sections_and_tags():
    run()
    for want in EXPECTED["posts"]:
        post = imported_post(want["wp_id"])
        assert post.title == want["title"]
        assert post.excerpt == (want["excerpt"] or "")
        assert post.author.username == want["author_login"]
        if want["slug_decoded"]:
            assert post.slug == want["slug_decoded"]
        else:
            assert post.slug  # a draft WordPress never named gets one from its title
        if want["expected_status"] == "draft":
            assert post.status == "draft"
            assert not post.is_published
        else:
            assert post.status == "published"
            assert post.published_at == gmt(want["date_gmt"])
            assert post.is_published == (want["expected_status"] == "published")
        # One section here: the most specific of its categories; another becomes a tag.
        assert post.category.slug in want["categories"]
        deepest = max(
            len(Category.lineage(Category.objects.get(slug=s).pk)) for s in want["categories"]
        )
        assert len(Category.lineage(post.category_id)) == deepest
        tags = set(post.tags.slugs())
        assert set(want["tags"]) <= tags
        for slug in set(want["categories"]) - {post.category.slug}:
            broader = {c.slug for c in Category.lineage(post.category_id)}
            assert slug in broader or slug in tags
        # The WordPress guid stays the feed id: subscribers see no old post as new.
        assert post.guid.startswith(EXPECTED["site"]["url"])


def test_quotes_fill_the_source_pages_with_affiliations(client):
    run()
    total = 0
    for want in EXPECTED["posts"]:
        post = imported_post(want["wp_id"])
        quotes = list(Quote.objects.filter(post=post).select_related("source", "update"))
        assert len(quotes) == want["attributed_quotes_count"], want["title"]
        by_text = {re.sub(r"\s+", " ", quote.text)[:40]: quote for quote in quotes}
        for expected_quote in want["attributed_quotes"]:
            start = re.sub(r"\s+", " ", expected_quote["text_starts"])[:40]
            quote = next(q for text, q in by_text.items() if text.startswith(start[:30]))
            assert quote.source.name == expected_quote["source"]
            if expected_quote["affiliation"]:
                assert quote.source.affiliation.name == expected_quote["affiliation"]
            if expected_quote["url"]:
                assert quote.url == expected_quote["url"]
            assert (quote.update is not None) == (expected_quote["in_update"] is not None)
        if want["expected_status"] == "published":
            total += len(quotes)
    assert total == EXPECTED["counts"]["attributed_quotes_in_published_posts"]
    source = Source.objects.get(name="Marcus Bell")
    page = client.get(source.get_absolute_url())
    assert page.status_code == 200
    assert "Budget vote delayed" in page.content.decode()


def test_hand_written_update_threads_become_updates_with_their_times(client):
    run()
    developing = 0
    for want in EXPECTED["posts"]:
        post = imported_post(want["wp_id"])
        updates = list(post.updates.order_by("published_at", "id"))
        assert len(updates) == want["update_count"], want["title"]
        for update, expected_update in zip(updates, want["updates"], strict=True):
            assert update.kind == expected_update["kind"]
            label = expected_update["label"] or ""
            text = expected_update["text_starts"].removeprefix(label).strip()
            assert (
                re.sub(r"[*\s]+", " ", update.body)
                .strip()
                .startswith(re.sub(r"[*\s]+", " ", text)[:30].strip())
            )
            if expected_update["at_gmt"]:
                assert update.published_at == gmt(expected_update["at_gmt"])
            elif expected_update["local_date"]:
                local = timezone.localtime(update.published_at).date().isoformat()
                assert local == expected_update["local_date"]
        if want["update_count"]:
            developing += want["expected_status"] == "published"
            # The thread is over: shown whole, closed, no longer polled.
            assert not post.is_developing and post.developing_ended_at is not None
            assert "More as it develops" not in post.body
    assert developing == EXPECTED["counts"]["developing_published_posts"]
    post = imported_post(13)
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Two of the holdouts now say they will support" in page
    assert 'id="thread"' in page


def test_every_old_address_answers_200_or_301_to_the_right_page(client):
    run()
    for want in EXPECTED["posts"]:
        post = imported_post(want["wp_id"])
        if not post.is_published:
            # Not public: no old address gives it away.
            assert client.get(want["old_query_url"]).status_code == 404
            continue
        for path in (want["permalink_path"], want["old_query_url"]):
            response = client.get(path)
            if response.status_code == 301:
                response = client.get(response["Location"])
            assert response.status_code == 200, path
            assert want["title"].split(":")[0] in response.content.decode(), path
    for redirect in EXPECTED["old_url_redirects"]:
        response = client.get(redirect["from"])
        if redirect["expect"] == 301:
            assert response.status_code == 301, redirect
        else:
            assert response.status_code in (200, 301), redirect
        if response.status_code == 301:
            assert unquote(response["Location"]) == unquote(redirect["to"]), redirect
    for want in EXPECTED["pages"]:
        assert client.get(want["path"]).status_code == 200
        response = client.get(want["old_query_url"])
        assert (response.status_code, response["Location"]) == (301, want["path"])
    for want in EXPECTED["categories"]:
        response = client.get(want["wp_path"])
        if response.status_code == 301:
            assert response["Location"] == f"/category/{want['slug']}/"
        else:
            assert response.status_code == 200


def test_attachment_pages_lead_to_the_post_that_shows_the_picture(client):
    run("--uploads", str(UPLOADS))
    for want in EXPECTED["attachments"]:
        post = imported_post(want["used_in_posts"][0])
        response = client.get(f"/?attachment_id={want['wp_id']}")
        assert (response.status_code, response["Location"]) == (301, post.get_absolute_url())


def test_a_slug_changed_on_import_keeps_its_old_address(client):
    taken = PostFactory(slug="the-correction-that-wasnt", status="published")
    run()
    post = imported_post(23)
    assert post.slug != "the-correction-that-wasnt" and post != taken
    response = client.get(POSTS[23]["permalink_path"])
    # The address belongs to the older post here: it is that post's page, untouched.
    assert response.status_code in (200, 301)
    response = client.get("/?p=23")
    assert (response.status_code, response["Location"]) == (301, post.get_absolute_url())
    response = client.get("/2026/04/06/the-correction-that-wasnt/")
    assert response.status_code == 301


def test_pages_become_sanitised_flat_pages_at_their_old_address(client):
    run()
    for want in EXPECTED["pages"]:
        page = FlatPage.objects.get(url=want["path"])
        assert page.title == want["title"]
        response = client.get(want["path"])
        assert response.status_code == 200
        assert want["title"] in response.content.decode()


# --- Media -----------------------------------------------------------------------------


def test_uploads_are_copied_once_checked_and_their_addresses_rewritten(settings, client):
    run("--uploads", str(UPLOADS))
    media = Path(settings.MEDIA_ROOT)
    files = sorted(path for path in media.rglob("*") if path.is_file())
    assert files
    for want in EXPECTED["attachments"]:
        post = imported_post(want["used_in_posts"][0])
        assert "wp-content/uploads" not in post.body
        assert "marginnotes.example/wp-content" not in post.body_html
        for name in re.findall(r"\]\((/media/[^)\s]+)\)", post.body):
            assert (media / name.removeprefix("/media/")).is_file()
            assert client.get(name).status_code == 200
    featured = imported_post(13)
    assert featured.image and featured.image_alt == EXPECTED["attachments"][0]["alt"]
    assert (media / featured.image.name).is_file()
    run("--uploads", str(UPLOADS))
    again = sorted(path for path in media.rglob("*") if path.is_file())
    assert again == files  # copied once


def test_without_uploads_images_stay_at_their_old_address_and_are_listed():
    output = run()
    assert "Still at the old site's address (use --uploads):" in output
    for want in EXPECTED["attachments"]:
        post = imported_post(want["used_in_posts"][0])
        assert "https://marginnotes.example/wp-content/uploads/" in post.body
        assert any(
            line.strip().startswith(want["url"].rsplit(".", 1)[0]) for line in output.splitlines()
        )


def test_a_file_that_is_not_an_image_is_refused_and_reported(tmp_path):
    uploads = tmp_path / "uploads"
    shutil.copytree(UPLOADS, uploads)
    victim = next(uploads.rglob("council-chamber-late-session-1024x576.jpg"))
    victim.write_bytes(b"<html><script>alert(1)</script></html>")
    with pytest.raises(CommandError):
        run("--uploads", str(uploads))
    post = imported_post(13)
    assert (
        "marginnotes.example/wp-content/uploads/2026/03/council-chamber-late-session" in (post.body)
        or "council-chamber-late-session-1024x576" not in post.body
    )


# --- Safe to repeat --------------------------------------------------------------------


def test_an_editors_change_is_kept_unless_update_is_asked_for():
    run()
    post = imported_post(7)
    post.title = "Fares: an editor's better title"
    post.save()
    output = run()
    assert "edited in Dateline since the last import" in output
    assert imported_post(7).title == "Fares: an editor's better title"
    output = run("--update")
    assert summary_rows(output)["posts"][1] == 1
    assert imported_post(7).title == POSTS[7]["title"]


def test_a_later_export_adds_only_the_new_posts(tmp_path):
    text = EXPORT.read_text("utf-8")
    items = re.findall(r"\n\t*<item>.*?</item>", text, flags=re.DOTALL)
    newest = next(item for item in items if "<wp:post_id>40</wp:post_id>" in item)
    older = tmp_path / "older.xml"
    older.write_text(text.replace(newest, ""), "utf-8")
    run(export=older)
    assert not WordPressItem.objects.filter(kind="post", key="40").exists()
    before = set(Post.objects.values_list("pk", "modified_at"))
    rows = summary_rows(run())
    assert rows["posts"][:2] == (1, 0)
    assert imported_post(40).title == POSTS[40]["title"]
    assert before <= set(Post.objects.values_list("pk", "modified_at"))


def test_the_page_cache_and_feeds_show_the_import_at_once(client, settings):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": 300}
    assert client.get("/").status_code == 200  # cached while empty
    feed = client.get("/feed/").content.decode()
    run()
    newest = max(
        (post for post in EXPECTED["posts"] if post["expected_status"] == "published"),
        key=lambda post: post["date_gmt"],
    )
    assert newest["title"] not in feed
    html = client.get("/").content.decode()
    assert newest["title"].replace("'", "&#x27;").split(",")[0] in html
    assert newest["title"].split(",")[0] in client.get("/feed/").content.decode()


# --- Hand-made exports -----------------------------------------------------------------


def wxr(*items, version="1.2", head=""):
    """A small export as WordPress 6 writes it, with these <item>s."""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
{head}<rss version="2.0"
    xmlns:excerpt="http://wordpress.org/export/{version}/excerpt/"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:wp="http://wordpress.org/export/{version}/">
<channel>
  <title>Hand made</title>
  <link>https://hand.example</link>
  <wp:wxr_version>{version}</wp:wxr_version>
  <wp:base_site_url>https://hand.example</wp:base_site_url>
  <wp:base_blog_url>https://hand.example</wp:base_blog_url>
  <wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[ed]]></wp:author_login>
    <wp:author_email><![CDATA[ed@hand.example]]></wp:author_email>
    <wp:author_display_name><![CDATA[Ed Itor]]></wp:author_display_name></wp:author>
  <wp:category><wp:term_id>2</wp:term_id><wp:category_nicename>news</wp:category_nicename>
    <wp:category_parent></wp:category_parent><wp:cat_name><![CDATA[News]]></wp:cat_name></wp:category>
  {"".join(items)}
</channel>
</rss>
"""


def item(
    wp_id,
    title,
    html,
    slug=None,
    status="publish",
    post_type="post",
    date="2026-05-04",
    password="",
    meta="",
):
    return f"""<item>
    <title><![CDATA[{title}]]></title>
    <link>https://hand.example/{date[:4]}/{date[5:7]}/{slug or wp_id}/</link>
    <guid isPermaLink="false">https://hand.example/?p={wp_id}</guid>
    <dc:creator><![CDATA[ed]]></dc:creator>
    <content:encoded><![CDATA[{html}]]></content:encoded>
    <excerpt:encoded><![CDATA[]]></excerpt:encoded>
    <wp:post_id>{wp_id}</wp:post_id>
    <wp:post_date><![CDATA[{date} 09:00:00]]></wp:post_date>
    <wp:post_date_gmt><![CDATA[{date} 14:00:00]]></wp:post_date_gmt>
    <wp:post_modified_gmt><![CDATA[{date} 14:00:00]]></wp:post_modified_gmt>
    <wp:post_name><![CDATA[{slug or f"post-{wp_id}"}]]></wp:post_name>
    <wp:status><![CDATA[{status}]]></wp:status>
    <wp:post_parent>0</wp:post_parent>
    <wp:post_type><![CDATA[{post_type}]]></wp:post_type>
    <wp:post_password><![CDATA[{password}]]></wp:post_password>
    <wp:is_sticky>0</wp:is_sticky>
    <category domain="category" nicename="news"><![CDATA[News]]></category>{meta}
  </item>"""


BLOCK_EDITOR = """<!-- wp:paragraph -->
<p>The port authority met on <strong>Tuesday</strong>. <a href="https://hand.example/2026/04/earlier/">Earlier</a>.</p>
<!-- /wp:paragraph -->

<!-- wp:quote -->
<blockquote class="wp-block-quote"><!-- wp:paragraph -->
<p>We will not sign a deal we have not read.</p>
<!-- /wp:paragraph --><cite>Rosa Tern, The Quay Courier</cite></blockquote>
<!-- /wp:quote -->

<!-- wp:list -->
<ul class="wp-block-list"><!-- wp:list-item --><li>berths</li><!-- /wp:list-item -->
<!-- wp:list-item --><li>cranes</li><!-- /wp:list-item --></ul>
<!-- /wp:list -->

<!-- wp:table -->
<figure class="wp-block-table"><table><thead><tr><th>Year</th><th>Ships</th></tr></thead>
<tbody><tr><td>2025</td><td>310</td></tr></tbody></table></figure>
<!-- /wp:table -->

<!-- wp:embed {"url":"https://www.youtube.com/watch?v=abc123","type":"video"} -->
<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">
https://www.youtube.com/watch?v=abc123
</div></figure>
<!-- /wp:embed -->

<!-- wp:paragraph -->
<p>More as it develops…</p>
<!-- /wp:paragraph -->

<!-- wp:paragraph -->
<p><strong>UPDATE 4:30pm:</strong> The vote is set for Friday.</p>
<!-- /wp:paragraph -->"""

HOSTILE = """<p>Hello<script>alert('x')</script></p>
<p><a href="javascript:alert(1)">click</a> <a href=" JaVa&#x09;script:alert(2)">again</a></p>
<p><img src="x" onerror="alert(3)"> <img src="javascript:alert(4)"></p>
<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>
<blockquote><p>Owned.</p><cite><a href="javascript:alert(5)">Mallory</a></cite></blockquote>
<svg><script>alert(6)</script></svg><p onclick="alert(7)">text</p>
[embed]javascript:alert(8)[/embed]"""


def write(tmp_path, text, name="export.xml"):
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_a_block_editor_export_imports_quotes_lists_tables_embeds_and_updates(tmp_path, client):
    path = write(tmp_path, wxr(item(101, "Port deal, read closely", BLOCK_EDITOR, "port-deal")))
    run(export=path)
    post = Post.objects.get(slug="port-deal")
    assert "<!--" not in post.body and "wp:" not in post.body
    [quote] = Quote.objects.filter(post=post)
    assert quote.source.name == "Rosa Tern"
    assert quote.source.affiliation.name == "The Quay Courier"
    assert "- berths" in post.body and "- cranes" in post.body
    assert "<table>" in post.body_html and "<td>310</td>" in post.body_html
    assert 'href="https://www.youtube.com/watch?v=abc123"' in post.body_html
    assert "](/2026/04/earlier/)" in post.body  # a link to the old site, made relative
    [update] = post.updates.all()
    assert update.body.strip() == "The vote is set for Friday."
    assert timezone.localtime(update.published_at).strftime("%Y-%m-%d %H:%M") == "2026-05-04 16:30"
    page = client.get(post.get_absolute_url())
    assert page.status_code == 200
    assert "We will not sign a deal" in page.content.decode()


def test_a_malicious_export_never_reaches_a_page(tmp_path, client):
    page = item(102, "About <script>alert(9)</script>", HOSTILE, "about", post_type="page")
    path = write(tmp_path, wxr(item(101, "Hostile <b>title</b>", HOSTILE, "hostile"), page))
    run(export=path)
    post = Post.objects.get(slug="hostile")
    assert post.title == "Hostile title"
    pages = [
        client.get(post.get_absolute_url()).content.decode(),
        client.get("/about/").content.decode(),
        client.get("/feed/").content.decode(),
    ]
    for html in pages:
        lowered = unescape(html).lower()  # the feed carries its HTML escaped
        assert "<script>alert" not in lowered and "<style>" not in lowered
        assert not re.search(r"""(href|src)=["']?\s*javascript:""", lowered)
        assert not re.search(r"\son\w+=", lowered)
        assert "<iframe" not in lowered and "<svg" not in lowered
    assert "Hello" in pages[0] and "Owned." in pages[0]
    # What was dangerous survives only as text: the iframe as a link to its address.
    assert '<a href="https://evil.example/"' in pages[0]


@pytest.mark.parametrize(
    "case",
    ["entity bomb", "external entity", "truncated", "unknown version", "not wordpress"],
)
def test_an_unsafe_or_broken_export_is_refused_and_nothing_is_written(tmp_path, case):
    good = wxr(item(101, "Fine", "<p>fine</p>"))
    lol = "\n".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    text = {
        "entity bomb": good.replace("<title>Hand made", "<title>&l9;").replace(
            "<rss", f'<!DOCTYPE rss [<!ENTITY l0 "lol">{lol}]>\n<rss', 1
        ),
        "external entity": good.replace("<title>Hand made", "<title>&x;").replace(
            "<rss", '<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<rss', 1
        ),
        "truncated": good[: len(good) // 2],
        "unknown version": wxr(item(101, "Fine", "<p>fine</p>"), version="9.9"),
        "not wordpress": "<?xml version='1.0'?><html><body>hi</body></html>",
    }[case]
    with pytest.raises(CommandError) as refused:
        run(export=write(tmp_path, text))
    message = str(refused.value)
    assert {
        "entity bomb": "refused unsafe XML",
        "external entity": "refused unsafe XML",
        "truncated": "not well-formed XML",
        "unknown version": "unsupported WXR",
        "not wordpress": "not a WordPress export",
    }[case] in message
    assert not Post.objects.exists() and not get_user_model().objects.exists()
    assert "root:" not in message


def test_a_post_that_fails_is_reported_by_title_and_id_and_the_rest_goes_on(tmp_path):
    # A body the renderer refuses (quotes nested far deeper than any page allows).
    deep = "<blockquote>" * 40 + "deep" + "</blockquote>" * 40
    too_long = "<p>" + "word " * 30_000 + "</p>"
    path = write(
        tmp_path,
        wxr(
            item(101, "Fine one", "<p>fine</p>", "fine-one"),
            item(102, "Far too long", too_long, "too-long"),
            item(103, "Fine two", f"<p>fine</p>{deep}", "fine-two"),
        ),
    )
    out = StringIO()
    with pytest.raises(CommandError, match="1 item"):
        call_command("import_wxr", str(path), stdout=out)
    assert "post 102 “Far too long”" in out.getvalue()
    assert set(Post.objects.values_list("slug", flat=True)) == {"fine-one", "fine-two"}
    assert not WordPressItem.objects.filter(kind="post", key="102").exists()


def test_statuses_map_and_nothing_private_becomes_public(tmp_path, client):
    future = (timezone.now() + timezone.timedelta(days=30)).strftime("%Y-%m-%d")
    path = write(
        tmp_path,
        wxr(
            item(101, "Out", "<p>out</p>", "out"),
            item(102, "Locked", "<p>secret</p>", "locked", password="hunter2"),
            item(103, "Binned", "<p>gone</p>", "binned", status="trash"),
            item(104, "Soon", "<p>soon</p>", "soon", status="future", date=future),
            item(105, "Mine", "<p>mine</p>", "mine", status="private"),
            item(106, "Half", "<p>half</p>", "half", status="pending"),
        ),
    )
    output = run(export=path)
    states = {post.slug: (post.status, post.is_published) for post in Post.objects.all()}
    assert states == {
        "out": ("published", True),
        "locked": ("draft", False),
        "soon": ("published", False),
        "mine": ("draft", False),
        "half": ("draft", False),
    }
    assert "password-protected posts imported as drafts" in output
    assert "“trash”" in output and summary_rows(output)["posts"] == (5, 0, 0, 1)
    for wp_id, slug in ((102, "locked"), (104, "soon"), (105, "mine")):
        assert client.get(f"/?p={wp_id}").status_code == 404
        assert client.get(Post.objects.get(slug=slug).get_absolute_url()).status_code == 404
    assert client.get("/?p=101").status_code == 301


def test_earlier_slugs_wordpress_kept_still_lead_to_the_post(tmp_path, client):
    old = (
        "<wp:postmeta><wp:meta_key>_wp_old_slug</wp:meta_key>"
        "<wp:meta_value>{}</wp:meta_value></wp:postmeta>"
    )
    meta = old.format("first-try") + old.format("caf%c3%a9-first")
    run(export=write(tmp_path, wxr(item(101, "Renamed", "<p>x</p>", "renamed", meta=meta))))
    post = Post.objects.get(slug="renamed")
    for path in ("/2026/05/first-try/", "/2026/05/café-first/", "/2026/05/04/first-try/"):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (301, post.get_absolute_url())


def test_a_failure_after_the_post_is_saved_leaves_no_half_post(tmp_path):
    # The post itself is fine; its second update is longer than an update may be.
    long_update = "<p>UPDATE: " + "word " * 5_000 + "</p>"
    html = (
        "<blockquote><p>On the record.</p><cite>Ada Quill, The Wire</cite></blockquote>"
        "<p>More as it develops…</p><p>UPDATE: short.</p>" + long_update
    )
    path = write(tmp_path, wxr(item(101, "Fine", "<p>fine</p>", "fine"), item(102, "Half", html)))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_wxr", str(path), stdout=out)
    assert "post 102 “Half”" in out.getvalue()
    assert list(Post.objects.values_list("slug", flat=True)) == ["fine"]
    assert not Update.objects.exists() and not Quote.objects.exists()
    assert not Source.objects.filter(name="Ada Quill").exists()
    assert not LegacyAddress.objects.filter(path="/?p=102").exists()
