"""Hostile input, generated (hypothesis): nothing that can run script reaches a page, a
feed or the JSON-LD, and the renderer answers or refuses within its limits, never fails.

Output is checked by parsing it, as a browser or a feed reader would, not by searching
it for strings.
"""

import contextlib
import itertools
import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from taggit.models import Tag

from blog.feeds import author_name
from blog.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_CLASSES,
    ALLOWED_TAGS,
    check_markdown,
    clean_text,
    render,
    render_markdown,
    sanitise,
)
from blog.models import Source, Update
from tests.factories import CategoryFactory, PostFactory, UpdateFactory, UserFactory, quoted

pytestmark = pytest.mark.django_db

# --- What the output may hold ----------------------------------------------------------

SAFE_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {
    "action",
    "background",
    "cite",
    "data",
    "formaction",
    "href",
    "poster",
    "src",
    "srcset",
    "xlink:href",
}
# Elements that run script, load other documents or change how the rest is parsed.
NEVER = {
    "applet",
    "base",
    "embed",
    "form",
    "frame",
    "frameset",
    "iframe",
    "math",
    "meta",
    "noscript",
    "object",
    "plaintext",
    "script",
    "style",
    "svg",
    "template",
    "textarea",
    "xmp",
}
# What our own templates write around the stored HTML.
PAGE_TAGS = ALLOWED_TAGS | {
    "article",
    "body",
    "button",
    "fieldset",
    "footer",
    "form",
    "h1",
    "head",
    "header",
    "html",
    "input",
    "label",
    "link",
    "main",
    "meta",
    "nav",
    "script",
    "section",
    "time",
    "title",
    # A source's quotes per month (blog/charts.py).
    "svg",
    "rect",
    "line",
    "text",
}
SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
CONTROLS = re.compile("[\x00-\x1f\x7f]")


def url_scheme(value):
    """The scheme a browser would see, or None for a relative URL.

    Browsers drop the controls and spaces around a URL and every tab and newline in it;
    this drops every control character in it, which is stricter.
    """
    match = SCHEME.match(CONTROLS.sub("", value).strip(" ").lower())
    return match[1] if match else None


def assert_safe_url(tag, name, value):
    scheme = url_scheme(value)
    assert scheme is None or scheme in SAFE_SCHEMES, f"<{tag} {name}={value!r}>"


class Elements(HTMLParser):
    """Every element with its attributes (entities decoded), the text inside each, and
    anything that is not an element (comments, declarations, processing instructions)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.others, self.open = [], [], []
        self.inside = []  # the open elements around each of self.elements
        self.texts = {}
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.handle_startendtag(tag, attrs)
        self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))
        self.inside.append(tuple(self.open))

    def handle_endtag(self, tag):
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    def handle_data(self, data):
        if self.open:
            self.texts.setdefault(self.open[-1], []).append(data)

    def handle_comment(self, data):
        self.others.append(f"<!--{data}-->")

    def handle_decl(self, decl):
        if decl.lower() != "doctype html":
            self.others.append(f"<!{decl}>")

    def handle_pi(self, data):
        self.others.append(f"<?{data}>")

    def unknown_decl(self, data):
        self.others.append(f"<![{data}]>")

    def text_of(self, tag):
        return "".join(self.texts.get(tag, []))


def assert_safe_fragment(html):
    """Stored HTML: only our allowlist, no scripts, no event handlers, no styles, no
    dangerous URLs, nothing but elements and text."""
    parsed = Elements(html)
    assert not parsed.others, parsed.others
    for tag, attrs in parsed.elements:
        assert tag not in NEVER and tag in ALLOWED_TAGS, f"<{tag}> in {html!r}"
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ALLOWED_ATTRIBUTES["*"]
        for name, value in attrs:
            value = value or ""
            if name == "class":
                assert set(value.split()) <= ALLOWED_CLASSES.get(tag, set()), (tag, value)
            elif name == "rel":
                assert tag == "a" and value == "noopener noreferrer", (tag, value)
            else:
                assert name in allowed, f"<{tag} {name}> in {html!r}"
            if name in URL_ATTRIBUTES:
                assert_safe_url(tag, name, value)


def assert_safe_page(page):
    """A whole page: our templates' elements only, scripts only our own files and the
    JSON-LD, no event handlers or styles, no dangerous URLs."""
    parsed = Elements(page)
    for tag, attrs in parsed.elements:
        assert tag in PAGE_TAGS, f"<{tag}>"
        attrs = dict(attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/") or attrs.get(
                "type"
            ) == "application/ld+json", attrs
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", f"<{tag} {name}={value!r}>"
            if name in URL_ATTRIBUTES:
                assert_safe_url(tag, name, value or "")
    return parsed


def json_ld(page):
    """The page's JSON-LD, cut where a browser ends the script element."""
    start = page.index('<script type="application/ld+json"')
    start = page.index(">", start) + 1
    end = page.lower().index("</script", start)
    text = page[start:end]
    # "<!--" would put the rest of the script in another parsing state.
    assert "<!--" not in text and "<script" not in text.lower()
    return json.loads(text)


# --- Hostile fragments -----------------------------------------------------------------

PAYLOADS = {
    "javascript": ["alert(1)", "alert(document.cookie)//", "/**/alert(1)", "%61lert(1)"],
    "vbscript": ["msgbox(1)"],
    "data": [
        "text/html,<script>alert(1)</script>",
        "text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "image/svg+xml,<svg onload=alert(1)>",
    ],
}
NOISE = ["\t", "\n", "\r", "\x00", "\x01", "\x0b", "\x0c", "\x1f", " ", "\u00a0", "\u200b"]
NAMED = {":": ["&colon;"], "\t": ["&Tab;"], "\n": ["&NewLine;"]}


@st.composite
def dangerous_url(draw):
    """javascript:, vbscript: or data: in any spelling a browser might still run."""
    scheme = draw(st.sampled_from(sorted(PAYLOADS)))
    parts = [draw(st.text(st.sampled_from(NOISE), max_size=3))]
    for char in f"{scheme}:":
        form = draw(st.sampled_from(["plain", "upper", "dec", "hex", "padded", "bare", "named"]))
        if form == "upper":
            char = char.upper()
        elif form == "dec":
            char = f"&#{ord(char)};"
        elif form == "hex":
            char = f"&#x{ord(char):X};"
        elif form == "padded":
            char = f"&#{ord(char):07d}"
        elif form == "bare":
            char = f"&#x{ord(char):x}"
        elif form == "named" and char in NAMED:
            char = draw(st.sampled_from(NAMED[char]))
        parts.append(char)
        if draw(st.integers(0, 5)) == 0:
            parts.append(draw(st.sampled_from(NOISE + ["&Tab;", "&NewLine;", "&#9;", "&#x0A;"])))
    parts.append(draw(st.sampled_from(PAYLOADS[scheme])))
    return "".join(parts)


ordinary_url = st.sampled_from(
    [
        "https://example.com/a?b=c&d=e",
        "http://x.example",
        "/relative/path",
        "mailto:desk@example.com",
        "#section",
        "//cdn.example/x.png",
        "x.png",
    ]
)
any_url = st.one_of(dangerous_url(), ordinary_url)

EVENTS = ["onerror", "onload", "onclick", "ONMOUSEOVER", "onfocus", "OnToggle", "onbegin"]
ATTRIBUTES = [*EVENTS, *sorted(URL_ATTRIBUTES), "style", "class", "id", "title", "srcdoc"]
TAGS = [
    "a",
    "img",
    "script",
    "style",
    "iframe",
    "svg",
    "math",
    "base",
    "object",
    "embed",
    "form",
    "input",
    "button",
    "meta",
    "link",
    "video",
    "details",
    "template",
    "noscript",
    "xmp",
    "textarea",
    "title",
    "blockquote",
    "q",
    "figure",
    "div",
    "p",
    "b",
    "code",
    "table",
    "td",
    "select",
    "ScRiPt",
    "IMG",
]
# Known ways through other sanitisers: parser differentials, namespace confusion.
KNOWN = [
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<!--><img src=x onerror=alert(1)>-->",
    "<![CDATA[><img src=x onerror=alert(1)>]]>",
    '<? foo="><script>alert(1)</script>">',
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<textarea><img src=x onerror=alert(1)></textarea>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<base href="javascript:alert(1)//">',
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)//<</script>/script>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><a><animate attributeName=href values="javascript:alert(1)"/><text>x</text></a>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction>',
    "<details open ontoggle=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<template><script>alert(1)</script></template>",
    "<plaintext><script>alert(1)</script>",
    '<a href="javas&#x09;cript:alert(1)">x</a>',
    '<img src="x" onerror="alert(1)"',
    "<a href=`javascript:alert(1)`>x</a>",
    '<a/href="javascript:alert(1)">x</a>',
    '<img """><script>alert(1)</script>">',
    "<table><td><b title=x>x</table><p>y",
    '<figure class="quote" onclick="x"><figcaption>— x</figcaption></figure>',
]


@st.composite
def attribute(draw):
    name = draw(st.sampled_from(ATTRIBUTES))
    value = draw(
        st.one_of(any_url, st.sampled_from(["alert(1)", '"><script>alert(1)</script>', "x"]))
    )
    quote = draw(st.sampled_from(['"{}"', "'{}'", "{}", "`{}`"]))
    separator = draw(st.sampled_from([" ", "/", "\n", "\t", "  "]))
    return f"{separator}{name}={quote.format(value)}"


@st.composite
def html_element(draw, inner=None):
    tag = draw(st.sampled_from(TAGS))
    attrs = "".join(draw(st.lists(attribute(), max_size=3)))
    close = draw(st.sampled_from([">", "/>", " >", "\n>", ""]))
    end = draw(st.sampled_from([f"</{tag}>", "", f"</{tag.upper()}>", f"</{tag} x>"]))
    return f"<{tag}{attrs}{close}{draw(inner) if inner is not None else 'x'}{end}"


@st.composite
def markdown_link(draw):
    url, text = draw(any_url), draw(st.sampled_from(["x", "*x*", "<b>x</b>", "`x`", ""]))
    form = draw(
        st.sampled_from(
            [
                "[{text}]({url})",
                "[{text}](<{url}>)",
                '[{text}]({url} "title")',
                "![{text}]({url})",
                "<{url}>",
                "[{text}][ref]\n\n[ref]: {url}",
                '[{text}]\n\n[{text}]: {url} "t"',
                '<a href="{url}">{text}</a>',
                "<img src='{url}' alt={text}>",
                '<blockquote cite="{url}">{text}</blockquote>',
                "<q cite={url}>{text}</q>",
            ]
        )
    )
    return form.format(url=url, text=text)


@st.composite
def attribution(draw):
    """A quote whose source line carries HTML, links or script."""
    name = draw(
        st.one_of(
            st.sampled_from(
                [
                    "<b onmouseover=alert(1)>Name</b>, Outlet",
                    "<script>alert(1)</script>",
                    "Name <img src=x onerror=alert(1)>",
                    "[<img src=x onerror=alert(1)>](https://x.example)",
                    '<a href="javascript:alert(1)">Name</a>, The Tribune',
                    "Dana &lt;script&gt;, &#x3C;b&#x3E;",
                    "*Dana*, `Outlet`",
                ]
            ),
            st.builds("[Name]({})".format, any_url),
            st.builds("<{}>".format, any_url),
            st.text(max_size=40),
        )
    )
    dash = draw(st.sampled_from(["—", "―", "--"]))
    return quoted(
        draw(st.sampled_from(["Quote.", "<i>Quote</i>", "[q](javascript:x)"])), f"{dash} {name}"
    )


markdown_alphabet = st.sampled_from(list("<>&\"'`=/ \n\t-*_[]()!#:;.|\\~ajvsciptx1") + NOISE)
fragment = st.one_of(
    html_element(),
    html_element(inner=html_element()),
    markdown_link(),
    attribution(),
    st.sampled_from(KNOWN),
    st.text(max_size=80),
    st.text(markdown_alphabet, max_size=120),
    st.builds("```html\n{}\n```".format, html_element()),
    st.builds("| a | {} |\n|---|---|\n| {} | b |".format, markdown_link(), html_element()),
)

BLOCK_PREFIXES = ["> ", "- ", "* ", "+ ", "1. ", "> - ", "- > ", "    ", "\t", "# "]
INLINE_WRAPPERS = ["*{}*", "**{}**", "_{}_", "`{}`", "~~{}~~", "[{}](https://x.example)"]
INLINE_WRAPPERS += ["<em>{}</em>", "<div>{}</div>", "[{}]", "![{}](x.png)", "<b title=x>{}"]


def prefix_lines(prefix, text):
    return "\n".join(prefix + line for line in text.split("\n"))


markdown_text = st.recursive(
    fragment,
    lambda inner: st.one_of(
        st.builds(prefix_lines, st.sampled_from(BLOCK_PREFIXES), inner),
        st.builds(
            lambda wrapper, text: wrapper.format(text), st.sampled_from(INLINE_WRAPPERS), inner
        ),
        st.builds(
            lambda separator, parts: separator.join(parts),
            st.sampled_from(["\n", "\n\n", " ", ""]),
            st.lists(inner, min_size=2, max_size=4),
        ),
    ),
    max_leaves=8,
)
# Deep nesting of every construct, on one line or line after line.
OPENERS = [*BLOCK_PREFIXES, "*", "_", "[", "![", "<div>", "<b title=x>", "<em>", "(", "<"]
deeply_nested = st.builds(
    lambda opener, times, inner: opener * times + inner,
    st.sampled_from(OPENERS),
    st.integers(0, 700),
    fragment,
) | st.builds(
    lambda prefix, times: "\n".join(" " * (2 * depth) + prefix + "x" for depth in range(times)),
    st.sampled_from(BLOCK_PREFIXES),
    st.integers(0, 300),
)


def render_or_refuse(text):
    """What saving does: check, then render. The HTML, or None when refused with a reason.

    Accepted text must render; refused text may render or raise ValidationError, nothing
    else (render() is the last line of defence for what the checks let through).
    """
    try:
        check_markdown(text, max_chars=100_000)
    except ValidationError as error:
        assert error.messages[0]
        with contextlib.suppress(ValidationError):
            render(clean_text(text), Source.objects.preview_attribution)
        return None
    return render(clean_text(text), Source.objects.preview_attribution).html


# --- The renderer ----------------------------------------------------------------------

# These examples only read the database (known sources), so they can share one test's.
reads_only = hypothesis_settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@reads_only
@given(markdown_text)
@example("- " * 2000 + "x")
@example("> " * 9 + "x")
@example("<a " * 2000)
def test_rendered_markdown_is_safe_or_refused(db, text):
    html = render_or_refuse(text)
    if html is not None:
        assert_safe_fragment(html)
    assert_safe_fragment(render_markdown(text))


@reads_only
@given(deeply_nested)
def test_deep_nesting_renders_or_is_refused_never_fails(db, text):
    html = render_or_refuse(text)
    if html is not None:
        assert_safe_fragment(html)


@reads_only
@given(dangerous_url(), st.sampled_from(["[x]({})", "![x]({})", "<{}>", '<a href="{}">x</a>']))
@example("&#106;avascript:alert(1)", '<a href="{}">x</a>')
@example("&#x6A;avascript&colon;alert(1)", '<a href="{}">x</a>')
@example("java\tscript:alert(1)", '<a href="{}">x</a>')
@example("\x01 JaVaScRiPt:alert(1)", '<img src="{}">')
@example("data:text/html,<script>alert(1)</script>", "[x]({})")
@example("vbscript:msgbox(1)", "<{}>")
def test_no_dangerous_url_survives_in_any_spelling(db, url, form):
    html = render_or_refuse(form.format(url))
    if html is not None:
        assert_safe_fragment(html)


@reads_only
@given(attribution())
def test_attribution_lines_become_links_to_our_pages_and_text(db, text):
    html = render_or_refuse(text)
    if html is None:
        return
    assert_safe_fragment(html)
    parsed = Elements(html)
    for (tag, attrs), inside in zip(parsed.elements, parsed.inside, strict=True):
        if "figcaption" in inside:
            # The caption is ours: the source's and outlet's pages, the original, text.
            attrs = dict(attrs)
            assert tag in {"cite", "a"}, tag
            if attrs.get("class") == "original":
                assert url_scheme(attrs["href"]) in {"http", "https"}
            else:
                assert tag == "cite" or attrs["href"].startswith("/source/"), attrs


@reads_only
@given(st.one_of(fragment, markdown_text))
@example("<button>x")  # was stored as "<p>x<p></p></p>"
@example("<table><td><button><p>x</table><a href=/a><button><a href=/b>y")
def test_stored_html_is_what_the_sanitiser_keeps(db, text):
    # Sanitising the stored HTML again changes nothing: no markup that a second parse
    # would read differently from the first (the root of "mutation" XSS).
    html = render_or_refuse(text)
    if html is not None:
        assert sanitise(html) == html


SOUP_TAGS = [
    *TAGS,
    "button",
    "tr",
    "th",
    "tbody",
    "caption",
    "li",
    "ul",
    "ol",
    "dl",
    "dd",
    "h2",
    "pre",
    "option",
    "select",
    "nobr",
    "font",
    "i",
    "s",
    "span",
    "br",
    "hr",
    "colgroup",
    "frameset",
    "body",
    "html",
    "head",
    "image",
    "keygen",
    "marquee",
]
tag_soup = st.lists(
    st.one_of(
        st.sampled_from(SOUP_TAGS).map("<{}>".format),
        st.sampled_from(SOUP_TAGS).map("</{}>".format),
        st.sampled_from(["x", " ", "\n", "<a href=/a>", '<a href="https://x.example">', "&amp;"]),
    ),
    max_size=30,
).map("".join)


@reads_only
@given(tag_soup)
def test_tag_soup_is_stored_as_a_browser_reads_it(db, html):
    stored = sanitise(html)
    assert_safe_fragment(stored)
    assert sanitise(stored) == stored


# --- Every other text that reaches a page, a feed or JSON-LD ---------------------------

SNIPPETS = [
    "<script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "</SCRIPT >",
    "<!--",
    "-->",
    "]]>",
    "<![CDATA[",
    '"',
    "'",
    "&amp;",
    "&#x3C;",
    "&lt;/script&gt;",
    "<img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "' autofocus onfocus='alert(1)",
    "</title><script>alert(1)</script>",
    "</textarea>",
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "\u2028",
    "\u2029",
    "\x00",
    "\x0b",
    "\x1f",
    "\ufffe",
    "\r\n",
    "\t",
    "{{ request }}",
    "{% csrf_token %}",
    "\\u003C",
    "\u202e",
    "𝒳",
]
hostile_text = st.one_of(
    st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=4).map("".join),
    st.builds(lambda a, b: a + b, st.text(max_size=20), st.sampled_from(SNIPPETS)),
    st.text(min_size=1, max_size=40),
).map(lambda text: text[:90])
serial = itertools.count()
NAME_FIELDS = ["title", "excerpt", "section", "tag", "first", "last", "source", "outlet", "quoted"]


def one_line(text):
    return " ".join(text.split()) or "Nobody"


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def assert_feed(client, url, titles=()):
    """A feed: well-formed XML, titles as plain text, item HTML as safe as a page's."""
    root = ElementTree.fromstring(fetch(client, url).encode())
    atom = "{http://www.w3.org/2005/Atom}"
    found = []
    for element in root.iter():
        if element.tag in ("title", f"{atom}title"):
            assert len(element) == 0, ElementTree.tostring(element)
            found.append(element.text or "")
        if element.tag in ("{http://purl.org/rss/1.0/modules/content/}encoded", f"{atom}content"):
            assert_safe_fragment(element.text or "")
    for element in [*root.iter("description"), *root.iter(f"{atom}summary")]:
        if element in root.findall("channel/description"):
            continue  # the feed's own: plain text
        # An item's summary, escaped: feed readers show it as HTML, so it must hold none.
        assert not Elements(element.text or "").elements, element.text
    for title in titles:
        # XML reads a carriage return as a newline.
        assert xml_text(title) in found, (title, found)


def no_nul(text):
    return text.replace("\x00", "")


def xml_text(text):
    return clean_text(text).replace("\r\n", "\n").replace("\r", "\n")


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.fixed_dictionaries(dict.fromkeys(NAME_FIELDS, hostile_text)))
@example(dict.fromkeys(NAME_FIELDS, "</script><!--<img src=x onerror=alert(1)>\x00\u2028]]>"))
def test_hostile_names_come_out_as_text_everywhere(client, db, names):
    n = next(serial)
    cache.clear()
    with transaction.atomic():
        try:
            check_every_page(client, names, n)
        finally:
            transaction.set_rollback(True)


def check_every_page(client, names, n):
    # Users and tags are Django's and taggit's: their forms refuse a NUL (which PostgreSQL
    # cannot store), so none arrives; every other character does.
    author = UserFactory(
        first_name=no_nul(names["first"])[:150], last_name=no_nul(names["last"])[:150]
    )
    section = CategoryFactory(name=names["section"][:100], slug=f"section-{n}")
    direct = Source.objects.create(name=clean_text(names["source"])[:200], slug=f"source-{n}")
    post = PostFactory(
        slug=f"hostile-{n}",
        title=names["title"][:200],
        excerpt=names["excerpt"],
        author=author,
        category=section,
        is_developing=True,
        body=quoted(
            f"Said {one_line(names['title'])}.",
            f"— {one_line(names['quoted'])}, {one_line(names['outlet'])}",
        ),
        tags=[Tag.objects.create(name=no_nul(names["tag"])[:100], slug=f"tag-{n}")],
    )
    UpdateFactory(
        post=post,
        kind=Update.Kind.CORRECTION,
        body=quoted("Corrected.", f"— {one_line(names['source'])}"),
    )
    post.refresh_from_db()

    page = fetch(client, post.get_absolute_url())
    parsed = assert_safe_page(page)
    assert parsed.text_of("h1") == post.title
    data = json_ld(page)
    assert data["headline"] == post.title
    assert data["articleSection"] == section.name
    assert data["author"]["name"] == author_name(author)
    assert data["liveBlogUpdate"][0]["headline"].endswith(post.title)

    sources = list(Source.objects.all())
    assert direct in sources
    pages = ["/", "/sources/", "/corrections/", section.get_absolute_url(), f"/tag/tag-{n}/"]
    for url in [*pages, *(source.get_absolute_url() for source in sources)]:
        assert_safe_page(fetch(client, url))

    assert_feed(client, "/feed/", [post.title])
    assert_feed(client, "/feed/atom/", [post.title])
    assert_feed(client, f"{section.get_absolute_url()}feed/")
    assert_feed(client, f"/tag/tag-{n}/feed/atom/")
    assert_feed(client, f"{post.get_absolute_url()}feed/")
    assert_feed(client, "/corrections/feed/atom/", [f"Correction to “{post.title}”"])
    for source in sources:
        assert_feed(client, f"{source.get_absolute_url()}feed/")


def test_a_source_website_must_be_a_web_address():
    source = Source(name="Dana", slug="dana", url="javascript:alert(1)")
    with pytest.raises(ValidationError) as error:
        source.full_clean()
    assert "url" in error.value.message_dict


# --- The checks themselves -------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href=" &#x01;JAVASCRIPT&colon;alert(1)">x</a>',
        '<img src="data:text/html,x">',
        '<blockquote cite="vbscript:msgbox(1)">x</blockquote>',
        '<img src="x.png" onerror="alert(1)">',
        '<p style="color:red">x</p>',
        "<svg></svg>",
        "<p><!-- x --></p>",
        '<figure class="quote evil">x</figure>',
    ],
)
def test_the_fragment_check_catches_what_it_looks_for(html):
    with pytest.raises(AssertionError):
        assert_safe_fragment(html)


@pytest.mark.parametrize(
    "page",
    [
        "<html><body><script>alert(1)</script></body></html>",
        '<html><body><h1 onclick="x()">t</h1></body></html>',
        "<html><body><iframe></iframe></body></html>",
        '<html><body><a href="javascript:x">t</a></body></html>',
    ],
)
def test_the_page_check_catches_what_it_looks_for(page):
    with pytest.raises(AssertionError):
        assert_safe_page(page)


@pytest.mark.parametrize(
    "script", ['{"a": "</script><script>alert(1)"}', '{"a": "<!--<script>"}', '{"a": "x</SCRIPT "}']
)
def test_the_json_ld_check_catches_what_it_looks_for(script):
    with pytest.raises((AssertionError, ValueError)):
        json_ld(f'<script type="application/ld+json">{script}</script>')
