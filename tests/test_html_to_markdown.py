import json
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from blog.importers.html_to_markdown import (
    has_more_line,
    parse_date_hint,
    parse_time_hint,
    split_updates,
    to_markdown,
)
from blog.markdown import check_markdown, render

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wordpress"
EXPORT = FIXTURES / "wordpress-export.xml"
EXPECTED = FIXTURES / "wordpress-export.expected.json"
CHICAGO = ZoneInfo("America/Chicago")


class FakeSource:
    def __init__(self, name):
        self.name = name

    def get_absolute_url(self):
        return "/source/x/"


def resolve(name, outlet=None):
    return FakeSource(name), FakeSource(outlet) if outlet else None


def rendered(markdown):
    check_markdown(markdown, max_chars=100_000)
    return render(markdown, resolve)


def bodies():
    """{wp_id: content:encoded} read straight from the export's CDATA."""
    text = EXPORT.read_text(encoding="utf-8")
    found = {}
    for item in re.findall(r"<item>(.*?)</item>", text, re.DOTALL):
        post_id = int(re.search(r"<wp:post_id>(\d+)</wp:post_id>", item)[1])
        content = re.search(
            r"<content:encoded><!\[CDATA\[(.*?)\]\]></content:encoded>", item, re.DOTALL
        )
        found[post_id] = content[1] if content else ""
    return found


def expected_posts():
    if not EXPECTED.exists():
        return []
    return json.loads(EXPECTED.read_text(encoding="utf-8"))["posts"]


def post_id(post):
    return f"post-{post['wp_id']}"


@pytest.mark.parametrize("post", expected_posts(), ids=post_id)
def test_fixture_post_quotes_match_the_expected_sources(post):
    markdown = to_markdown(bodies()[post["wp_id"]])
    result = rendered(markdown)
    found = [(q.source.name, q.outlet.name if q.outlet else None, q.url) for q in result.quotes]
    expected = [(q["source"], q["affiliation"], q["url"] or "") for q in post["attributed_quotes"]]
    assert found == expected
    total = result.html.count("<blockquote")
    assert total - result.html.count('<figure class="quote">') == post["plain_blockquotes"]
    assert total == post["blockquotes_total"]


@pytest.mark.parametrize("post", expected_posts(), ids=post_id)
def test_fixture_post_update_threads_are_found(post):
    body, updates = split_updates(to_markdown(bodies()[post["wp_id"]]))
    assert len(updates) == post["update_count"]
    posted = datetime.fromisoformat(post["date_local"]).replace(tzinfo=CHICAGO)
    for update, expected in zip(updates, post["updates"], strict=True):
        assert update.kind == expected["kind"]
        assert update.heading_text == expected["label"]
        assert expected["text_starts"].startswith(update.heading_text)
        text = expected["text_starts"][len(expected["label"]) :].strip()
        assert update.body.replace("*", "").startswith(text[:40].replace("*", ""))
        assert update.body.count("\n> — ") == sum(
            1 for q in post["attributed_quotes"] if q["in_update"] == expected["index"]
        )
        moment = parse_time_hint(update.time_hint, posted)
        if expected["at_gmt"]:
            assert moment.astimezone(ZoneInfo("UTC")).isoformat() == expected["at_gmt"].replace(
                "Z", "+00:00"
            )
        else:
            assert moment is None
        if expected["local_date"] and not expected["local_time"]:
            day = parse_date_hint(update.time_hint, posted)
            assert day.isoformat() == expected["local_date"]
    assert has_more_line(to_markdown(bodies()[post["wp_id"]])) == post["is_developing"]
    if post["more_line"]:
        assert "More as it develops" not in body
        assert all(expected["label"] not in body for expected in post["updates"])


@pytest.mark.parametrize("post", expected_posts(), ids=post_id)
def test_fixture_post_renders_safely_and_keeps_images_and_embeds(post):
    body = bodies()[post["wp_id"]]
    markdown = to_markdown(body)
    html = rendered(markdown).html
    assert_no_script(html)
    for embed in post["embeds"]:
        assert f'href="{embed}"' in html
    sources = re.findall(r'<img [^>]*\bsrc="([^"]+)"', body)
    assert len(sources) >= len(post["images"])
    for source in sources:
        assert f"]({source})" in markdown
    assert html.count("<img ") == len(sources)
    assert "[caption" not in markdown and "wp-image" not in markdown


def assert_no_script(html):
    lowered = html.lower()
    for needle in ("<script", "javascript:", "vbscript:", "data:", "onerror", "onload", "<iframe"):
        assert needle not in lowered, needle


# Block-editor markup ---------------------------------------------------------------

BLOCK_EDITOR = """
<!-- wp:paragraph -->
<p>First <strong>bold</strong> and <em>soft</em> words, with a <a href="https://a.example/x">link</a>.</p>
<!-- /wp:paragraph -->

<!-- wp:heading {"level":3} -->
<h3 class="wp-block-heading">A section</h3>
<!-- /wp:heading -->

<!-- wp:list -->
<ul><!-- wp:list-item --><li>One</li><!-- /wp:list-item --><!-- wp:list-item --><li>Two<!-- wp:list -->
<ul><!-- wp:list-item --><li>Two and a half</li><!-- /wp:list-item --></ul>
<!-- /wp:list --></li><!-- /wp:list-item --></ul>
<!-- /wp:list -->

<!-- wp:quote -->
<blockquote class="wp-block-quote"><!-- wp:paragraph -->
<p>We will not be moved.</p>
<!-- /wp:paragraph --><cite>Dana Reyes, The Tribune</cite></blockquote>
<!-- /wp:quote -->

<!-- wp:pullquote -->
<figure class="wp-block-pullquote"><blockquote><p>Numbers do not lie; people do.</p><cite>Ada Park</cite></blockquote></figure>
<!-- /wp:pullquote -->

<!-- wp:image {"id":12} -->
<figure class="wp-block-image size-large"><img src="https://a.example/up/p.jpg" alt="A pier" class="wp-image-12"/><figcaption class="wp-element-caption">The pier at dawn</figcaption></figure>
<!-- /wp:image -->

<!-- wp:embed {"url":"https://www.youtube.com/watch?v=abc","type":"video"} -->
<figure class="wp-block-embed is-type-video"><div class="wp-block-embed__wrapper">
https://www.youtube.com/watch?v=abc
</div></figure>
<!-- /wp:embed -->

<!-- wp:table -->
<figure class="wp-block-table"><table><thead><tr><th>Party</th><th>Seats</th></tr></thead><tbody><tr><td>Blue</td><td>12</td></tr><tr><td>Red | Green</td><td>9</td></tr></tbody></table></figure>
<!-- /wp:table -->
"""  # noqa: E501 (block-editor markup as WordPress stores it)


def test_block_editor_markup_becomes_our_markdown():
    markdown = to_markdown(BLOCK_EDITOR)
    assert "wp:" not in markdown
    assert "First **bold** and *soft* words, with a [link](https://a.example/x)." in markdown
    assert "### A section" in markdown
    assert "- One\n- Two\n    - Two and a half" in markdown
    assert "> We will not be moved.\n>\n> — Dana Reyes, The Tribune" in markdown
    assert "> Numbers do not lie; people do.\n>\n> — Ada Park" in markdown
    assert "![A pier](https://a.example/up/p.jpg)\n\n*The pier at dawn*" in markdown
    assert "[https://www.youtube.com/watch?v=abc](https://www.youtube.com/watch?v=abc)" in (
        markdown
    )
    assert "| Party | Seats |\n| --- | --- |\n| Blue | 12 |\n| Red \\| Green | 9 |" in markdown


def test_block_editor_markup_renders_quotes_lists_and_tables():
    result = rendered(to_markdown(BLOCK_EDITOR))
    assert [(q.source.name, q.outlet and q.outlet.name) for q in result.quotes] == [
        ("Dana Reyes", "The Tribune"),
        ("Ada Park", None),
    ]
    assert "<table>" in result.html and "<td>Red | Green</td>" in result.html
    assert result.html.count("<li>") == 3
    assert '<img alt="A pier" src="https://a.example/up/p.jpg">' in result.html


def test_h1_becomes_h2_and_other_headings_keep_their_level():
    assert to_markdown("<h1>Top</h1><h4>Low</h4>") == "## Top\n\n#### Low\n"


def test_pre_and_code_become_fenced_code_and_backticks():
    markdown = to_markdown("<p>Run <code>ls *</code></p><pre>a = 1\n\nb = `x` &lt; 2</pre>")
    assert "Run `ls *`" in markdown
    assert "```\na = 1\n\nb = `x` < 2\n```" in markdown
    html = rendered(markdown).html
    assert "<code>ls *</code>" in html and "b = `x` &lt; 2" in html


def test_hr_iframe_and_embed_shortcode():
    markdown = to_markdown(
        'a<hr>b\n\n[embed]https://v.example/1[/embed]\n\n<iframe src="https://m.example/e">'
        "<p>fallback</p></iframe>"
    )
    assert markdown == (
        "a\n\n---\n\nb\n\n[https://v.example/1](https://v.example/1)\n\n"
        "[https://m.example/e](https://m.example/e)\n"
    )


def test_caption_shortcode_becomes_image_and_italic_caption():
    markdown = to_markdown(
        '[caption id="attachment_3" align="alignnone" width="300"]'
        '<a href="https://a.example/big.jpg">'
        '<img src="https://a.example/s-300x200.jpg" alt="Two *stars*" /></a>'
        " Night, at last[/caption]"
    )
    assert markdown == (
        "[![Two \\*stars\\*](https://a.example/s-300x200.jpg)](https://a.example/big.jpg)"
        "\n\n*Night, at last*\n"
    )


# Classic editor (wpautop) ----------------------------------------------------------


def test_classic_text_splits_into_paragraphs_and_line_breaks():
    markdown = to_markdown("One line\nand the next\n\nA new paragraph.\n\n\n<em>Last</em>")
    assert markdown == "One line  \nand the next\n\nA new paragraph.\n\n*Last*\n"
    assert "<br" in rendered(markdown).html


def test_trailing_dash_line_in_classic_quote_becomes_attribution():
    for dash in ("—", "&mdash;", "&#8212;", "―", "--"):
        markdown = to_markdown(f"<blockquote>Said it.\n\n{dash} Lee Ames, The Post</blockquote>")
        assert markdown == "> Said it.\n>\n> — Lee Ames, The Post\n", dash
        quote = rendered(markdown).quotes[0]
        assert (quote.source.name, quote.outlet.name) == ("Lee Ames", "The Post")


def test_quote_with_dash_on_the_last_line_of_its_paragraph():
    markdown = to_markdown("<blockquote><p>Said it.<br>— Lee Ames</p></blockquote>")
    assert [q.source.name for q in rendered(markdown).quotes] == ["Lee Ames"]


def test_plain_blockquotes_stay_plain_and_apart():
    markdown = to_markdown("<blockquote>One</blockquote>\n\n<blockquote>Two</blockquote>")
    result = rendered(markdown)
    assert result.quotes == []
    assert result.html.count("<blockquote>") == 2


def test_plain_quote_before_attributed_one_stays_plain():
    markdown = to_markdown(
        "<blockquote>One</blockquote><blockquote>Two<cite>Ann Lo</cite></blockquote>"
    )
    result = rendered(markdown)
    assert [q.source.name for q in result.quotes] == ["Ann Lo"]
    assert result.quotes[0].text == "Two"
    assert result.html.count("<blockquote") == 2


def test_nested_quotes_keep_both_attributions():
    markdown = to_markdown(
        "<blockquote><p>He wrote:</p><blockquote><p>Inner.</p><cite>Bo Inn</cite></blockquote>"
        "<p>— Al Out, Daily</p></blockquote>"
    )
    result = rendered(markdown)
    assert sorted(q.source.name for q in result.quotes) == ["Al Out", "Bo Inn"]


def test_linked_cite_gives_the_quote_its_url():
    markdown = to_markdown(
        '<blockquote cite="https://x.example/o">Text<cite><a href="https://x.example/o">'
        "The Ledger</a></cite></blockquote>"
    )
    assert markdown.endswith("> — [The Ledger](https://x.example/o)\n")
    quote = rendered(markdown).quotes[0]
    assert (quote.source.name, quote.url) == ("The Ledger", "https://x.example/o")


def test_nested_lists_and_ordered_start():
    markdown = to_markdown('<ol start="3"><li>a<ul><li>b</li></ul></li><li>c</li></ol>')
    assert markdown == "3. a\n    - b\n4. c\n"


def test_text_that_looks_like_markdown_is_escaped():
    text = "1. not a list\n- nor this\n# nor a heading\n*stars* _under_ [x](y) &lt;b&gt; & &amp;lt;"
    markdown = to_markdown(text.replace("\n", "\n\n"))
    html = rendered(markdown).html
    for tag in ("<ol", "<ul", "<h1", "<h2", "<em", "<a ", "<b>"):
        assert tag not in html
    assert "1. not a list" in html and "- nor this" in html and "# nor a heading" in html
    assert "*stars* _under_ [x](y) &lt;b&gt; &amp; &amp;lt;" in html


def test_entities_are_decoded():
    assert to_markdown("caf&eacute; &#8220;quoted&#8221; &hellip;") == "café “quoted” …\n"


# Hostile HTML ----------------------------------------------------------------------

HOSTILE_LINKS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java&#x09;script:alert(1)",
    "&#106;avascript:alert(1)",
    "&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)",
    "javascript&colon;alert(1)",
    "jav&#x0A;ascript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
]


@pytest.mark.parametrize("href", HOSTILE_LINKS)
def test_dangerous_links_keep_only_their_text(href):
    markdown = to_markdown(f'<p>Click <a href="{href}">here</a> <img src="{href}"></p>')
    assert markdown == "Click here\n"
    assert_no_script(rendered(markdown).html)


def test_scripts_styles_and_handlers_are_dropped():
    markdown = to_markdown(
        "<p>Before<script>alert('x')</script><style>p{}</style></p>"
        '<img src="x" onerror="alert(1)"><svg onload="alert(1)"><text>s</text></svg>'
        '<div onclick="alert(1)">After <span style="x">all</span></div>'
        "<blockquote><script>evil()</script>Quoted<cite><script>x()</script>Al</cite></blockquote>"
        "&lt;script&gt;alert(2)&lt;/script&gt;"
    )
    assert "alert(1)" not in markdown and "evil" not in markdown and "x()" not in markdown
    assert "Before" in markdown and "After all" in markdown
    result = rendered(markdown)
    assert_no_script(result.html)
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in result.html
    assert [q.source.name for q in result.quotes] == ["Al"]


def test_unclosed_and_broken_markup_still_converts():
    markdown = to_markdown("<p>one<p>two<blockquote>three<ul><li>four<li>five</div></b>")
    result = rendered(markdown)
    assert_no_script(result.html)
    for word in ("one", "two", "three", "four", "five"):
        assert word in result.html


# Update threads --------------------------------------------------------------------


def test_split_updates_finds_labels_headings_and_corrections():
    body, updates = split_updates(
        "Story.\n\nMore as it develops…\n\n**UPDATE:** First.\n\nUpdated, 5 p.m.: Second.\n\n"
        "> Quote\n>\n> — A B\n\n### Update 9:30am\n\nUnder a heading.\n\n"
        "CORRECTION: A name was misspelled.\n"
    )
    assert body == "Story.\n"
    assert [(u.kind, u.heading_text, u.time_hint) for u in updates] == [
        ("update", "UPDATE:", ""),
        ("update", "Updated, 5 p.m.:", "5 p.m."),
        ("update", "Update 9:30am", "9:30am"),
        ("correction", "CORRECTION:", ""),
    ]
    assert updates[1].body == "Second.\n\n> Quote\n>\n> — A B\n"
    assert updates[2].body == "Under a heading.\n"


def test_updates_heading_over_labelled_paragraphs_is_only_a_divider():
    body, updates = split_updates("Story.\n\n## Updates\n\nUPDATE 4pm: One.\n\nUPDATE: Two.\n")
    assert body == "Story.\n"
    assert [(u.time_hint, u.body) for u in updates] == [("4pm", "One.\n"), ("", "Two.\n")]


def test_split_updates_without_a_more_line_leaves_the_story_alone():
    body, updates = split_updates("UPDATE: See below.\n\nThe story.\n\nUpdate the records now.\n")
    assert body == "The story.\n\nUpdate the records now.\n"
    assert [(u.heading_text, u.body) for u in updates] == [("UPDATE:", "See below.\n")]


def test_parse_time_hint():
    posted = datetime(2026, 3, 3, 9, 0, tzinfo=CHICAGO)
    assert parse_time_hint("3:15pm", posted) == datetime(2026, 3, 3, 15, 15, tzinfo=CHICAGO)
    assert parse_time_hint("5 p.m.", posted) == datetime(2026, 3, 3, 17, 0, tzinfo=CHICAGO)
    assert parse_time_hint("8am", posted) == datetime(2026, 3, 4, 8, 0, tzinfo=CHICAGO)
    assert parse_time_hint("March 5, noon", posted) == datetime(2026, 3, 5, 12, tzinfo=CHICAGO)
    assert parse_time_hint("March 4", posted) is None
    assert parse_time_hint("", posted) is None
    assert parse_time_hint("13pm", posted) is None


@pytest.mark.parametrize(
    "html",
    [
        "<blockquote>" * 200 + "deep",
        "<ul><li>" * 200 + "deep",
        "<ol><li><blockquote>" * 60 + "deep",
        "<div>" * 5000 + "deep",
        "<em>" * 3000 + "deep",
    ],
    ids=["quotes", "lists", "mixed", "divs", "emphasis"],
)
def test_deep_markup_is_flattened_within_the_renderer_limits(html):
    markdown = to_markdown(html)
    assert "deep" in rendered(markdown).html


def test_lines_that_would_become_headings_or_rules_are_escaped():
    markdown = to_markdown("a\n---\nb\n\n===\n\n+ y\n\n-- z")
    assert markdown == "a  \n\\---  \nb\n\n&#61;==\n\n\\+ y\n\n-- z\n"
    html = rendered(markdown).html
    assert "<h" not in html and "<hr" not in html and "<ul" not in html


def test_code_inside_quotes_and_lists_is_indented_not_fenced():
    markdown = to_markdown("<blockquote><pre>if a &lt; b:\n    go()</pre></blockquote>")
    assert markdown == ">     if a < b:\n>         go()\n"
    assert "<pre><code>if a &lt; b:\n    go()" in rendered(markdown).html


def test_nested_emphasis_of_one_kind_is_marked_once():
    assert to_markdown("<b>bold <strong>still</strong> bold</b>") == "**bold still bold**\n"


def test_pullquote_with_figcaption_and_media_shortcodes():
    markdown = to_markdown(
        '<figure class="wp-block-pullquote"><blockquote><p>Less is more.</p></blockquote>'
        "<figcaption>Mies, Bauhaus</figcaption></figure>"
        '[video width="640" mp4="https://v.example/a.mp4"][/video]'
        '[audio src="https://v.example/b.mp3"]'
        '<figure class="wp-block-video"><video controls src="https://v.example/c.mp4"></video>'
        "</figure>"
    )
    assert markdown == (
        "> Less is more.\n>\n> — Mies, Bauhaus\n\n"
        "[https://v.example/a.mp4](https://v.example/a.mp4)\n\n"
        "[https://v.example/b.mp3](https://v.example/b.mp3)\n\n"
        "[https://v.example/c.mp4](https://v.example/c.mp4)\n"
    )


@pytest.mark.parametrize(
    "html",
    [
        "<a x" * 20_000,
        "<!-- wp:x" * 20_000,
        "[caption]" * 20_000,
        "[embed]" * 20_000,
        '<a b="x>' * 20_000,
    ],
    ids=["tags", "comments", "captions", "embeds", "quotes"],
)
def test_unfinished_markup_converts_in_linear_time(html):
    started = time.perf_counter()
    to_markdown(html)
    assert time.perf_counter() - started < 3


def test_a_lone_less_than_sign_stays_text():
    assert to_markdown("if a < b and c > d, a<b") == "if a &lt; b and c \\> d, a&lt;b\n"


def test_source_names_are_kept_as_written():
    markdown = to_markdown(
        "<blockquote>One<cite>Barnes &amp; Noble, <em>A*B</em> [News]</cite></blockquote>"
        "<blockquote>Two\n\n— Mary-Kate #1, Smith & Co.</blockquote>"
    )
    assert "> — Barnes & Noble, A*B News\n" in markdown
    assert "> — Mary-Kate #1, Smith & Co.\n" in markdown
    assert [(q.source.name, q.outlet.name) for q in rendered(markdown).quotes] == [
        ("Barnes & Noble", "AB News"),
        ("Mary-Kate #1", "Smith & Co."),
    ]


def test_embed_addresses_cannot_add_markup():
    markdown = to_markdown('[embed]https://v.example/?a=1&amp;b="<x onclick=y>[/embed]')
    assert markdown == (
        '[https://v.example/?a=1&amp;b="&lt;x onclick=y\\>]'
        '(https://v.example/?a=1&b="%3Cx%20onclick=y%3E)\n'
    )
