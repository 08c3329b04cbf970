"""The only place trusted HTML is made.

Markdown → HTML (with our attribution extension) → nh3 allowlist. The same `render()`
makes the admin's live preview, the stored `body_html` of posts and updates, and the list
of attributed quotes that becomes the Quote rows.
"""

import logging
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field
from html.parser import locatestarttagend_tolerant

import markdown
import nh3
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.utils.deconstruct import deconstructible
from django.utils.html import escape
from markdown.blockprocessors import HRProcessor
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

logger = logging.getLogger(__name__)

# Limits that keep one hostile body from tying up a worker. python-markdown parses each
# nested quote, list item or indented block by calling itself (a line of 500 "- " markers
# exhausted the stack); its link patterns backtrack over open brackets; and the costs
# below grow with the product of two sizes, so 100,000 characters can take minutes.
MAX_QUOTE_DEPTH = 8
MAX_INDENT = 48
# Lists and quotes inside each other, counted on one line: its "> " and "- " markers
# plus its indentation in steps of four. Real writing stays under 6; the stack holds 400.
MAX_NESTING = 16
MAX_BRACKET_DEPTH = 16
MAX_BRACKET_SCAN = 1_000_000
# Each heading or rule inside a paragraph makes the parser re-read the rest of it
# (lines x headings), and each piece of inline markup rebuilds the paragraph's text
# (characters x markup). Summed over the text, each budget is a few tenths of a second.
MAX_HEADING_SCAN = 1_000_000
MAX_INLINE_SCAN = 300_000_000
# Python's HTML parser reads an unfinished tag ("<a href=…" without ">") to its end and
# then starts again one character later: the characters read that way, in all.
MAX_TAG_SCAN = 2_000_000

LIST_MARKER = re.compile(r"(?:[*+-]|\d{1,9}[.)])(?= )")
LEADING_SPACES = re.compile(" *")
# Lines that end a paragraph where they stand: headings, setext underlines and rules (a
# few more lines than exactly those: this only counts them), and the first of a run of
# link definitions (one pass reads the whole run).
BREAKS_PARAGRAPH = re.compile(r"^ {0,3}(?:#|[-=*_][-=*_ ]*$)", re.MULTILINE)
LINK_DEFINITIONS = re.compile(r"^(?! {0,3}\[[^\[\]\n]*\]:).*\n {0,3}\[[^\[\]\n]*\]:", re.MULTILINE)
INLINE_MARKUP = re.compile(r"[\\`*_<&\[!]|  \n")  # the last: a line break
TAG_START = re.compile(r"<[a-zA-Z]")
# html5ever (inside nh3) reopens every formatting element left open when a block closes;
# entries with equal attributes are kept at most three times, so different ones let a
# line of "<b title=1>x</p><p>" grow the HTML by its square (20 KB became 9 MB).
FORMATTING_START_TAG = re.compile(
    r"<(b|big|code|em|font|i|nobr|s|small|strike|strong|tt|u)(?=[\s/])", re.IGNORECASE
)


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
    """Our allowlist, applied twice.

    Dropping an element can leave a tree that HTML cannot spell: "<p><button>x</p>"
    keeps "<p>x<p></p></p>", which a browser reads as three paragraphs. Differences
    between what the sanitiser checked and what a browser builds are how markup slips
    through ("mutation XSS"), so the second pass stores what a browser will read.
    """
    html = bare_formatting_tags(html)
    for _ in range(2):
        html = nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            allowed_classes=ALLOWED_CLASSES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer",
            strip_comments=True,
            attribute_filter=safe_url_attribute,
        )
    return html


def bare_formatting_tags(html):
    """`<b title="…">` → `<b>`, so that html5ever keeps at most three of each open.

    Only a title could have survived sanitising on these tags. Each tag runs to the next
    ">": a ">" inside a quoted value cuts it short, which leaves the rest as text.
    """
    parts, done, tag_end = [], 0, -1
    for match in FORMATTING_START_TAG.finditer(html):
        start = match.start()
        if start < done:
            continue  # inside a tag just rewritten
        if tag_end < start:
            # The first ">" after an earlier start is also the first after this one when
            # it lies beyond it: one pass over the text, however many tags there are.
            tag_end = html.find(">", start)
            if tag_end < 0:
                break  # an unfinished tag: the HTML parser drops it
        parts += [html[done:start], f"<{match[1].lower()}>"]
        done = tag_end + 1
    parts.append(html[done:])
    return "".join(parts)


TOO_DEEP = (
    "This text puts lists, quotes or formatting too deeply inside each other to be shown. "
    "Flatten it, or put a backslash before a dash, star, plus or number that starts a line "
    "as plain text: \\- \\* \\+ 1\\."
)


def render(text, resolve):
    """Render Markdown to sanitised HTML; `resolve(name, outlet)` gives the quoted sources.

    Raises ValidationError, with a message for the editor, on what it cannot render:
    check_markdown() refuses all we know of first, this is the last line of defence.
    """
    found = []
    md = markdown.Markdown(
        extensions=[*EXTENSIONS, AttributionExtension(resolve, found)],
        output_format="html",
    )
    try:
        html = sanitise(md.convert(text or ""))
    except RecursionError as error:
        raise ValidationError(TOO_DEEP, code="too_deep") from error
    except DatabaseError:
        raise  # finding or creating the quoted sources failed: not the text's fault
    except Exception as error:
        logger.exception("Markdown renderer failed on a %d-character text", len(text or ""))
        raise ValidationError(
            "This text's formatting could not be turned into a page. Simplify the part you "
            "changed last (its HTML, lists or quotes) and try again.",
            code="unrenderable",
        ) from error
    return Rendered(html=html, quotes=found)


def render_markdown(text):
    """The editor's live preview: exactly the public HTML, without creating sources.

    What would be refused on saving is shown as the reason instead.
    """
    from blog.models import Source  # models render through this module

    text = clean_text(text)
    try:
        check_markdown(text, max_chars=None)
        return render(text, Source.objects.preview_attribution).html
    except ValidationError as error:
        return sanitise(f"<p><strong>{escape('; '.join(error.messages))}</strong></p>")


def check_markdown(text, max_chars):
    """Refuse input that is too long or would make the renderer crawl or overflow."""
    if max_chars is not None and len(text) > max_chars:
        raise ValidationError(
            f"This text is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Split it, or move part of it into an update.",
            code="too_long",
        )
    # The text as python-markdown reads it: saved without the characters clean_text()
    # drops (a "-\x01 -" is "- -" by then), lines ended by "\n", tabs as 4 spaces.
    text = clean_text(text or "")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4).split("\n")
    for number, line in enumerate(lines, start=1):
        check_line(number, line)
    check_paragraphs(text)
    if unfinished_tag_scan(text) > MAX_TAG_SCAN:
        raise ValidationError(
            "Too many unfinished HTML tags: a “<” followed by a letter but never closed by "
            "“>”. Finish them, or write a literal “<” as &lt;.",
            code="html",
        )


def check_paragraphs(text):
    """Refuse paragraphs whose rendering time grows with the square of their size."""
    heading_scan = inline_scan = 0
    for block in re.split(r"\n[ \t>]*\n", text):
        # Each unclosed "[" or "(" makes the inline parser rescan the rest of its
        # paragraph, so the cost is (unclosed brackets) x (paragraph length).
        deepest, unclosed = bracket_profile(block)
        if deepest > MAX_BRACKET_DEPTH or unclosed * len(block) > MAX_BRACKET_SCAN:
            raise ValidationError(
                "Too many nested or unclosed brackets “[” or “(” in one paragraph. "
                "Close them, or write a literal bracket as \\[ or \\(.",
                code="brackets",
            )
        lines = block.count("\n") + 1
        breaks = len(BREAKS_PARAGRAPH.findall(block)) + len(LINK_DEFINITIONS.findall(block))
        heading_scan += breaks * lines
        if heading_scan > MAX_HEADING_SCAN:
            raise ValidationError(
                f"A paragraph of {lines:,} lines holds {breaks:,} headings, rules or link "
                "definitions. Put a blank line before and after each heading and rule.",
                code="headings",
            )
        inline_scan += len(INLINE_MARKUP.findall(block)) * len(block)
        if inline_scan > MAX_INLINE_SCAN:
            raise ValidationError(
                f"Too much formatting (* _ ` [ ! < & \\) in paragraphs this long to be shown "
                f"in time; this one has {len(block):,} characters. Split long paragraphs "
                "with blank lines.",
                code="formatting",
            )


def check_line(number, line):
    """Refuse a line that opens more quotes, lists or indentation than we render."""
    indent = len(line) - len(line.lstrip(" "))
    if indent == len(line):
        return  # python-markdown reads a line of spaces as a blank line
    if indent > MAX_INDENT:
        raise ValidationError(
            f"Line {number:,} is indented by {indent:,} spaces; lists and code can be "
            f"indented at most {MAX_INDENT}.",
            code="too_deep",
        )
    quotes = levels = position = 0
    while quotes <= MAX_QUOTE_DEPTH and levels <= MAX_NESTING:
        spaces = LEADING_SPACES.match(line, position).end()
        levels += (spaces - position) // 4
        position = spaces
        if line.startswith(">", position):
            quotes += 1
            levels += 1
            position += 1
            continue
        marker = LIST_MARKER.match(line, position)
        # "- - -" is a horizontal rule, not three lists.
        if marker is None or HRProcessor.SEARCH_RE.match(line[position:]):
            break
        levels += 1
        position = marker.end()
    if quotes > MAX_QUOTE_DEPTH:
        raise ValidationError(
            f"Line {number:,} nests quotes more than {MAX_QUOTE_DEPTH} deep; at most "
            f"{MAX_QUOTE_DEPTH} levels are allowed.",
            code="too_deep",
        )
    if levels > MAX_NESTING:
        raise ValidationError(
            f"Line {number:,} puts more than {MAX_NESTING} lists or quotes inside each "
            f"other; at most {MAX_NESTING} levels are allowed. To start a line with a dash, "
            "star, plus or number as plain text, put a backslash before it: \\- \\* \\+ 1\\.",
            code="too_deep",
        )


def unfinished_tag_scan(text):
    """Characters Python's HTML parser reads over start tags, as python-markdown feeds it
    the whole text: a complete tag is read once, an unfinished one again from each "<"."""
    scanned = resume = 0
    for match in TAG_START.finditer(text):
        start = match.start()
        if start < resume:
            continue
        end = locatestarttagend_tolerant.match(text, start).end()
        scanned += end - start
        if scanned > MAX_TAG_SCAN:
            break
        after = text[end : end + 1]
        if after == ">":
            resume = end + 1
        elif text.startswith("/>", end):
            resume = end + 2
        elif after not in ("", "/", "=") and not (after.isascii() and after.isalpha()):
            resume = end  # the parser ends a malformed tag here and reads on
        # Otherwise the tag is unfinished: the parser reads on from the next character.
    return scanned


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
