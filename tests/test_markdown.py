from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from blog.markdown import check_markdown, render, render_markdown
from blog.models import Post, Source, Update
from tests.admin_forms import form_data
from tests.factories import CategoryFactory, PostFactory, SourceFactory, quoted

pytestmark = pytest.mark.django_db


def test_plain_name_attribution_renders_a_figure_linking_to_the_source():
    html = render_markdown(quoted("Nobody has the votes.", "— Dana Reyes"))
    assert '<figure class="quote">' in html
    assert "<blockquote>\n<p>Nobody has the votes.</p>\n</blockquote>" in html
    assert '<figcaption>— <cite><a href="/source/dana-reyes/"' in html
    assert ">Dana Reyes</a></cite>" in html


def test_name_and_outlet_link_to_both_pages():
    html = render_markdown(quoted("Divided three ways.", "— Dana Reyes, The Tribune"))
    assert 'href="/source/dana-reyes/"' in html
    assert 'href="/source/the-tribune/"' in html


def test_link_form_sets_blockquote_cite_to_the_original():
    url = "https://ledger.example/2026/03/council-split"
    html = render_markdown(quoted("Two members said no.", f"— [The Ledger]({url})"))
    assert f'<blockquote cite="{url}">' in html
    assert f'<a class="original" href="{url}"' in html
    assert ">The Ledger</a></cite>" in html


@pytest.mark.parametrize("dash", ["—", "―", "--"])
def test_every_dash_form_starts_an_attribution(dash):
    html = render_markdown(quoted("A quote.", f"{dash} Dana Reyes"))
    assert '<figure class="quote">' in html
    assert "Dana Reyes</a></cite>" in html


def test_attribution_on_the_quotes_last_line_without_a_blank_line():
    html = render_markdown("> Two members said no.\n> -- The Ledger")
    assert "<p>Two members said no.</p>" in html
    assert "The Ledger</a></cite>" in html


def test_blockquote_without_attribution_stays_plain():
    html = render_markdown("> Just a blockquote.\n>\n> With two paragraphs.")
    assert "<figure" not in html
    assert "<blockquote>" in html
    assert "<p>With two paragraphs.</p>" in html


def test_attribution_line_alone_is_not_a_quote():
    html = render_markdown("> — Dana Reyes")
    assert "<figure" not in html


def test_multi_paragraph_quote_keeps_every_paragraph_in_one_figure():
    html = render_markdown(quoted("First point.\n\nSecond point.\n\nThird point.", "— Ann Lee"))
    assert html.count("<figure") == 1
    for paragraph in ("First point.", "Second point.", "Third point."):
        assert f"<p>{paragraph}</p>" in html


def test_quote_reporting_another_quote_renders_both():
    text = (
        "> The mayor's office told us:\n>\n> > We will not comment.\n> > — City Hall\n>\n"
        "> That was all.\n>\n> — Dana Reyes, The Tribune"
    )
    html = render_markdown(text)
    assert html.count('<figure class="quote">') == 2
    assert html.index("Dana Reyes") > html.index("City Hall")


def test_known_source_is_linked_by_its_alias(db):
    SourceFactory(name="The New York Times", slug="nyt", aliases="NY Times\nNYT")
    html = render_markdown(quoted("Markets fell.", "— ny times"))
    assert 'href="/source/nyt/"' in html
    assert ">The New York Times</a>" in html


def test_preview_creates_no_sources():
    render_markdown(quoted("A quote.", "— Brand New Person, Brand New Outlet"))
    assert not Source.objects.exists()


@pytest.mark.parametrize("name", ["日本経済新聞", "!!!", "Ελένη, Καθημερινή"])
def test_preview_links_sources_whose_names_make_no_slug(name):
    # slugify() keeps nothing of these: the preview failed to link them.
    html = render_markdown(quoted("A quote.", f"— {name}"))
    assert '<figure class="quote">' in html
    assert 'href="/source/item/"' in html
    assert not Source.objects.exists()


def test_markdown_inside_quotes_and_captions_is_rendered_once():
    html = render_markdown(quoted("It is *very* bad.", "— *Dana* Reyes"))
    assert "<em>very</em>" in html
    assert ">Dana Reyes</a>" in html


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<p style="color:red" onclick="x()">styled</p>', "style="),
        ('<p onclick="x()">clicked</p>', "onclick"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<blockquote cite="javascript:alert(1)">x</blockquote>', "javascript:"),
        ("> quoted\n> — [Evil](javascript:alert(1))", "javascript:"),
        ('<figure class="quote evil">x</figure>', "evil"),
    ],
)
def test_sanitiser_removes_unsafe_markup(text, forbidden):
    assert forbidden not in render_markdown(text)


def test_sanitiser_keeps_ordinary_formatting():
    html = render_markdown(
        "## Heading\n\n**bold** [link](https://example.com) ![alt](/media/a.png)"
    )
    assert "<h2>Heading</h2>" in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com"' in html
    assert 'src="/media/a.png"' in html


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000,
        "[a](" * 500 + "word " * 2000,
        "> " * 40 + "deep",
        "\n".join(" " * (4 * depth) + "- item" for depth in range(30)),
    ],
    ids=["open-brackets", "open-link-parens", "deep-quotes", "deep-lists"],
)
def test_pathological_input_is_refused_with_a_message(text):
    with pytest.raises(ValidationError) as error:
        check_markdown(text, max_chars=100_000)
    assert error.value.messages[0]


# One line of list markers: python-markdown parses each as a list inside the last and
# ran out of stack (RecursionError, a 500) at about 500 of them.
LIST_MARKERS = "- " * 2000 + "x"


@pytest.mark.parametrize(
    "text",
    [
        LIST_MARKERS,
        "* " * 2000 + "x",
        "+ " * 2000 + "x",
        "1. " * 2000 + "x",
        "- * " * 1000 + "x",
        "> - " * 1000 + "x",
        "- > " * 1000 + "x",
        "1. > * " * 500 + "x",
        # Control characters are dropped on saving: "-\x01 -" is saved as "- -".
        "-\x01 " * 2000 + "x",
        # Nesting by indentation inside a quote, four spaces a level.
        "\n".join("> " + " " * (4 * depth) + "- item" for depth in range(30)),
        # Indentation and markers add up: twelve levels of indent, then five lists.
        "\n".join(" " * (4 * depth) + "- x" for depth in range(12))
        + "\n"
        + " " * 48
        + "- " * 5
        + "x",
    ],
    ids=[
        "dashes",
        "stars",
        "pluses",
        "numbers",
        "mixed-markers",
        "quote-list",
        "list-quote",
        "number-quote-star",
        "control-characters",
        "indented-in-quote",
        "indent-and-markers",
    ],
)
def test_deep_nesting_on_one_line_is_refused_with_a_reason(text):
    with pytest.raises(ValidationError) as error:
        check_markdown(text, max_chars=100_000)
    assert (
        "inside each other" in error.value.messages[0]
        or "nests quotes" in (error.value.messages[0])
    )


def test_renderer_turns_a_recursion_error_into_a_validation_error():
    # The last line of defence, for whatever check_markdown() might not foresee.
    with pytest.raises(ValidationError) as error:
        render(LIST_MARKERS, Source.objects.preview_attribution)
    assert error.value.code == "too_deep"
    assert "backslash" in error.value.messages[0]


def test_renderer_turns_a_parser_failure_into_a_validation_error(monkeypatch):
    def broken(self, text):
        raise IndexError("deep inside python-markdown")

    monkeypatch.setattr("markdown.Markdown.convert", broken)
    with pytest.raises(ValidationError, match="could not be turned into a page"):
        render("anything", Source.objects.preview_attribution)


@pytest.mark.parametrize(
    "text",
    [
        "- " * 40,  # a horizontal rule, however long
        "* " * 40,
        "> " * 8 + "- " * 8 + "eight quotes, eight lists",
        "\n".join(" " * (4 * depth) + "- item" for depth in range(12)),
        "- a\n    - b\n        1. c\n            > d\n            > — Dana Reyes",
        "\t\t- a list indented by two tabs",
        " " * 80,  # a blank line, whatever its spaces
    ],
)
def test_ordinary_nesting_and_rules_are_accepted(text):
    check_markdown(text, max_chars=100_000)
    render_markdown(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # Python's HTML parser reads each unfinished tag to the end, then again from
        # the next "<": 100,000 characters of "<a " took 200 seconds.
        ("<a " * 1_000 + "word " * 19_000, "unfinished HTML tags"),
        ('<a href="x' * 300 + "word " * 19_000, "unfinished HTML tags"),
        ("<http://" * 300 + "word " * 19_000, "unfinished HTML tags"),
        # Each heading inside a paragraph makes the parser re-read the rest of it.
        ("a\n=\n" * 20_000, "headings"),
        ("# h\n" * 20_000, "headings"),
        ("a\n[a]: https://x.example\n" * 4_000, "headings"),
        # Each piece of inline markup rebuilds the paragraph's text.
        ("<b>" * 30_000, "formatting"),
        ("\\" * 50_000, "formatting"),
        ("a  \n" * 25_000, "formatting"),
    ],
    ids=[
        "open-tags",
        "open-attributes",
        "open-autolinks",
        "setext-headings",
        "hash-headings",
        "link-definitions",
        "inline-html",
        "escapes",
        "line-breaks",
    ],
)
def test_input_that_renders_in_quadratic_time_is_refused(text, reason):
    with pytest.raises(ValidationError, match=reason):
        check_markdown(text, max_chars=100_000)


def test_link_definitions_in_one_run_are_accepted():
    # Read in one pass however many there are: not counted like headings.
    check_markdown("[a]: https://x.example\n" * 2_000, max_chars=100_000)


def test_formatting_tags_left_open_cannot_multiply_the_html():
    # html5ever reopens every formatting element left open when a block closes; with a
    # different title each, 20 KB of this became 9 MB of HTML.
    text = "".join(f"<b title={n}>x</p><p>" for n in range(1_000))
    html = render_markdown(text)
    assert len(html) < 5 * len(text)
    assert "<b>x</b>" in html


def test_over_long_input_is_refused():
    with pytest.raises(ValidationError, match="limit is 100"):
        check_markdown("x" * 101, max_chars=100)


def test_ordinary_prose_with_brackets_and_parentheses_is_accepted():
    check_markdown("See [the report](https://x.example/a_(b)) (page 3) [sic].\n" * 500, 100_000)


# --- The editor's preview and upload endpoints -------------------------------------


def test_preview_requires_staff(client):
    response = client.post("/markdownx/markdownify/", {"content": "> hi\n> — Dana"})
    assert response.status_code == 403


def test_preview_renders_quotes_like_the_public_page(staff_client):
    response = staff_client.post(
        "/markdownx/markdownify/", {"content": quoted("Hi.", "— Dana Reyes, The Tribune")}
    )
    assert response.status_code == 200
    assert response.content.decode() == render_markdown(quoted("Hi.", "— Dana Reyes, The Tribune"))


def test_preview_is_sanitised(staff_client):
    response = staff_client.post("/markdownx/markdownify/", {"content": "<script>x</script>"})
    assert b"<script" not in response.content


def test_preview_without_content_is_a_bad_request(staff_client):
    assert staff_client.post("/markdownx/markdownify/", {}).status_code == 400


def test_preview_explains_a_refused_text_instead_of_failing(staff_client):
    response = staff_client.post("/markdownx/markdownify/", {"content": LIST_MARKERS})
    assert response.status_code == 200
    assert "inside each other" in response.content.decode()


def test_admin_refuses_a_too_deep_body_with_a_form_error_and_saves_nothing(staff_client):
    section = CategoryFactory()
    data = form_data(staff_client.get("/admin/blog/post/add/"))
    data.update(
        title="Deep", slug="deep", category=str(section.pk), body=LIST_MARKERS, status="draft"
    )
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 200
    assert "inside each other" in response.content.decode()
    assert not Post.objects.exists()


def test_live_thread_refuses_a_too_deep_update_and_saves_nothing(staff_client):
    story = PostFactory(is_developing=True)
    url = f"{story.get_absolute_url()}updates/"
    as_json = staff_client.post(
        url, {"kind": "update", "body": LIST_MARKERS}, HTTP_ACCEPT="application/json"
    )
    assert as_json.status_code == 400
    assert "inside each other" in as_json.json()["errors"]["body"][0]["message"]
    as_page = staff_client.post(url, {"kind": "update", "body": LIST_MARKERS})
    assert as_page.status_code == 400
    assert "inside each other" in as_page.content.decode()
    assert not Update.objects.exists()


def image_file(name, fmt, content_type):
    data = BytesIO()
    Image.new("RGB", (8, 8), "red").save(data, fmt)
    return SimpleUploadedFile(name, data.getvalue(), content_type=content_type)


AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def test_upload_requires_staff(client):
    response = client.post(
        "/markdownx/upload/", {"image": image_file("a.png", "PNG", "image/png")}, **AJAX
    )
    assert response.status_code == 403


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_staff_upload_returns_markdown_for_the_image(staff_client, settings, fmt, ext):
    upload = image_file(f"photo.{ext}", fmt, f"image/{ext}")
    response = staff_client.post("/markdownx/upload/", {"image": upload}, **AJAX)
    assert response.status_code == 200
    code = response.json()["image_code"]
    assert code.startswith("![](/media/uploads/")
    stored = settings.MEDIA_ROOT / code[len("![](/media/") : -1]
    assert stored.exists()


def test_upload_rejects_a_script_disguised_as_an_image(staff_client):
    fake = SimpleUploadedFile("x.png", b"<script>alert(1)</script>", content_type="image/png")
    response = staff_client.post("/markdownx/upload/", {"image": fake}, **AJAX)
    assert response.status_code == 400
    assert "not an image" in response.content.decode()


def test_upload_rejects_svg(staff_client):
    svg = SimpleUploadedFile(
        "x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', content_type="image/svg+xml"
    )
    response = staff_client.post("/markdownx/upload/", {"image": svg}, **AJAX)
    assert response.status_code == 400


def test_upload_rejects_images_over_the_size_limit(staff_client, settings, monkeypatch):
    monkeypatch.setattr("markdownx.forms.MARKDOWNX_UPLOAD_MAX_SIZE", 50)
    response = staff_client.post(
        "/markdownx/upload/", {"image": image_file("a.png", "PNG", "image/png")}, **AJAX
    )
    assert response.status_code == 400
