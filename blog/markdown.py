"""The only place trusted HTML is made.

Markdown → HTML (with our attribution extension) → nh3 allowlist. The same `render()`
makes the admin's live preview, the stored `body_html` of posts and updates, and the list
of attributed quotes that becomes the Quote rows.
"""

import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field

import markdown
import nh3
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

# "— Dana Reyes, The Tribune", "― The Ledger", "-- [The Ledger](https://…)"
ATTRIBUTION_LINE = re.compile(r"^\s*(?:—|―|--)(?!-)\s*(?P<source>\S.*?)\s*$")
LINK = re.compile(
    r"\[(?P<text>[^\[\]]+)\]\(\s*<?(?P<url>(?:[^\s()<>]|\([^\s()<>]*\))+)>?"
    r"(?:\s+\"[^\"]*\")?\s*\)"
)
AUTOLINK = re.compile(r"<(?P<url>https?://[^\s<>]+)>")
STASH_PLACEHOLDER = re.compile("\x02wzxhzdk:\\d+\x03")
SAFE_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"title"},
    "a": {"href"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start"},
    "q": {"cite"},
    "td": {"align"},
    "th": {"align"},
}
ALLOWED_CLASSES = {"figure": {"quote"}, "a": {"original"}}
URL_SCHEMES = {"http", "https", "mailto"}

EXTENSIONS = [
    "markdown.extensions.fenced_code",
    "markdown.extensions.tables",
    "markdown.extensions.sane_lists",
]

# Limits that keep one hostile body from tying up a worker: python-markdown's nested
# block parsing recurses per level and its link patterns backtrack over open brackets.
MAX_QUOTE_DEPTH = 8
MAX_INDENT = 48
MAX_BRACKET_DEPTH = 16
MAX_BRACKET_SCAN = 1_000_000


# Characters XML 1.0 cannot carry (C0 controls but tab/newline/CR, lone surrogates, the
# non-characters U+FFFE/U+FFFF). Editors paste them from Word and PDFs; feeds must not.
INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text):
    """Drop characters that no feed, database or browser should receive."""
    return INVALID_XML_CHARS.sub("", text) if text else text


@dataclass
class FoundQuote:
    source: object
    outlet: object
    attribution: str
    url: str
    text: str = ""
    element: etree.Element = field(default=None, repr=False)


@dataclass
class Rendered:
    html: str
    quotes: list


def parse_attribution(raw):
    """Split an attribution into (name, outlet name or None, url or '')."""
    url = ""
    for match in [*LINK.finditer(raw), *AUTOLINK.finditer(raw)]:
        if SAFE_URL.match(match["url"]):
            url = match["url"]
            break
    text = LINK.sub(lambda m: m["text"], raw)
    text = AUTOLINK.sub(lambda m: m["url"], text)
    text = re.sub(r"[*_`]+", "", text)
    parts = [" ".join(part.split()) for part in text.split(",")]
    parts = [part for part in parts if part]
    if not parts:
        return None, None, url
    # "Name, Outlet"; with more commas ("Name, role, Outlet") the last part is the outlet.
    outlet = parts[-1] if len(parts) > 1 else None
    return parts[0][:200], outlet[:200] if outlet else None, url


class AttributionProcessor(Treeprocessor):
    """Turns `> quote … > — Source` into `<figure class="quote">` before inline parsing."""

    def __init__(self, md, resolve, found):
        super().__init__(md)
        self.resolve = resolve
        self.found = found

    def run(self, root):
        self.walk(root)

    def walk(self, element):
        # Innermost first, so a quote that reports another quote keeps both.
        for child in list(element):
            self.walk(child)
        for child in list(element):
            if child.tag == "blockquote":
                self.convert(element, child)

    def convert(self, parent, blockquote):
        """Split a blockquote after each attribution paragraph into attributed figures.

        python-markdown joins blockquotes that only a blank line separates, so one
        element can hold several quotes, each ending with its own attribution line.
        """
        replacement, pending = [], []
        for child in list(blockquote):
            pending.append(child)
            attribution = self.attribution_of(child)
            if attribution is None:
                continue
            lines, match, parsed = attribution
            if len(lines) == 1:
                pending.pop()
            else:
                child.text = "\n".join(lines[:-1])
            if pending:
                replacement.append(self.figure(pending, match["source"], *parsed))
            else:  # an attribution with nothing above it stays as written
                child.text = "\n".join(lines)
                replacement.append(self.blockquote([child]))
            pending = []
        if not any(element.tag == "figure" for element in replacement):
            return
        if pending:
            replacement.append(self.blockquote(pending))
        index = list(parent).index(blockquote)
        parent.remove(blockquote)
        for offset, element in enumerate(replacement):
            parent.insert(index + offset, element)

    @staticmethod
    def attribution_of(child):
        if child.tag != "p" or len(child) or not child.text:
            return None
        lines = child.text.rstrip().split("\n")
        match = ATTRIBUTION_LINE.match(lines[-1])
        if not match:
            return None
        parsed = parse_attribution(match["source"])
        return (lines, match, parsed) if parsed[0] else None

    @staticmethod
    def blockquote(children):
        element = etree.Element("blockquote")
        element.extend(children)
        element.text = "\n"
        return element

    def figure(self, children, attribution, name, outlet_name, url):
        source, outlet = self.resolve(name, outlet_name)
        figure = etree.Element("figure", {"class": "quote"})
        quote = self.blockquote(children)
        figure.append(quote)
        if url:
            quote.set("cite", url)

        caption = etree.SubElement(figure, "figcaption")
        caption.text = AtomicString("— ")
        cite = etree.SubElement(caption, "cite")
        link = etree.SubElement(cite, "a", {"href": source.get_absolute_url()})
        link.text = AtomicString(source.name)
        if outlet is not None:
            link.tail = AtomicString(", ")
            outlet_link = etree.SubElement(cite, "a", {"href": outlet.get_absolute_url()})
            outlet_link.text = AtomicString(outlet.name)
        if url:
            cite.tail = AtomicString(" ")
            original = etree.SubElement(caption, "a", {"href": url, "class": "original"})
            original.text = AtomicString("(original)")
        self.found.append(
            FoundQuote(
                source=source, outlet=outlet, attribution=attribution, url=url, element=quote
            )
        )
        return figure


def plain_text(element):
    """Text of a quote without the captions of quotes nested in it."""
    parts = [element.text or ""]
    for child in element:
        if child.tag != "figcaption":
            parts.append(plain_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


class QuoteTextProcessor(Treeprocessor):
    """After inline parsing: the plain text of each attributed quote, for the Quote rows."""

    def __init__(self, md, found):
        super().__init__(md)
        self.found = found

    def run(self, root):
        order = {id(element): index for index, element in enumerate(root.iter())}
        self.found.sort(key=lambda quote: order.get(id(quote.element), 0))
        for quote in self.found:
            paragraphs = []
            for block in quote.element:
                text = " ".join(STASH_PLACEHOLDER.sub("", plain_text(block)).split())
                if text:
                    paragraphs.append(text)
            quote.text = "\n\n".join(paragraphs)
            quote.element = None


class AttributionExtension(Extension):
    def __init__(self, resolve, found):
        super().__init__()
        self.resolve = resolve
        self.found = found

    def extendMarkdown(self, md):  # noqa: N802 (python-markdown's API)
        # Before "inline" (20), so the attribution line is still raw Markdown; the text
        # pass runs after it, when emphasis and links have become text.
        md.treeprocessors.register(
            AttributionProcessor(md, self.resolve, self.found), "attribution", 30
        )
        md.treeprocessors.register(QuoteTextProcessor(md, self.found), "quote_text", 15)


def safe_url_attribute(tag, attribute, value):
    # nh3 checks the scheme of href and src but not of cite.
    if attribute == "cite" and not (SAFE_URL.match(value) or value.startswith("/")):
        return None
    return value


def sanitise(html):
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=safe_url_attribute,
    )


def render(text, resolve):
    """Render Markdown to sanitised HTML; `resolve(name, outlet)` gives the quoted sources."""
    found = []
    md = markdown.Markdown(
        extensions=[*EXTENSIONS, AttributionExtension(resolve, found)],
        output_format="html",
    )
    html = sanitise(md.convert(text or ""))
    return Rendered(html=html, quotes=found)


def render_markdown(text):
    """The editor's live preview: exactly the public HTML, without creating sources."""
    from blog.models import Source

    try:
        check_markdown(text, max_chars=None)
    except ValidationError as error:
        return sanitise(f"<p><strong>{'; '.join(error.messages)}</strong></p>")
    return render(text, Source.objects.preview_attribution).html


def check_markdown(text, max_chars):
    """Refuse input that is too long or would make the renderer crawl."""
    if max_chars is not None and len(text) > max_chars:
        raise ValidationError(
            f"This text is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Split it, or move part of it into an update.",
            code="too_long",
        )
    quote_depth = indent = 0
    for line in text.splitlines():
        stripped = line.lstrip()
        indent = max(indent, len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip()))
        depth = len(re.match(r"(?:>\s*)*", stripped)[0].replace(" ", "").replace("\t", ""))
        quote_depth = max(quote_depth, depth)
    if quote_depth > MAX_QUOTE_DEPTH:
        raise ValidationError(
            f"Quotes are nested {quote_depth} deep; at most {MAX_QUOTE_DEPTH} levels are allowed.",
            code="too_deep",
        )
    if indent > MAX_INDENT:
        raise ValidationError(
            f"A line is indented by {indent} spaces; lists and code can be indented "
            f"at most {MAX_INDENT}.",
            code="too_deep",
        )
    # Each unclosed "[" or "(" makes the inline parser rescan the rest of its
    # paragraph, so the cost is (unclosed brackets) x (paragraph length).
    for block in re.split(r"\n[ \t>]*\n", text):
        deepest, unclosed = bracket_profile(block)
        if deepest > MAX_BRACKET_DEPTH or unclosed * len(block) > MAX_BRACKET_SCAN:
            raise ValidationError(
                "Too many nested or unclosed brackets “[” or “(” in one paragraph. "
                "Close them, or write a literal bracket as \\[ or \\(.",
                code="brackets",
            )


def bracket_profile(block):
    """(deepest nesting of [ ], number of [ and ( never closed) for one paragraph."""
    square = round_ = deepest = 0
    for char in block:
        if char == "[":
            square += 1
            deepest = max(deepest, square)
        elif char == "]":
            square = max(square - 1, 0)
        elif char == "(":
            round_ += 1
        elif char == ")":
            round_ = max(round_ - 1, 0)
    return deepest, square + round_


@deconstructible
class MarkdownValidator:
    def __init__(self, max_chars):
        self.max_chars = max_chars

    def __call__(self, value):
        check_markdown(value, self.max_chars)

    def __eq__(self, other):
        return isinstance(other, MarkdownValidator) and other.max_chars == self.max_chars
