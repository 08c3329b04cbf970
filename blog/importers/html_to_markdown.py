"""Turns WordPress post HTML into Dateline Markdown."""

import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape, unescape
from html.parser import HTMLParser

from blog.markdown import ATTRIBUTION_LINE

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
}  # fmt: skip
# Dropped with everything inside them; an iframe leaves its address as a link.
DROPPED = {
    "script", "style", "iframe", "noscript", "template", "object", "svg", "math", "head",
    "title", "textarea", "select", "button", "form", "frame", "frameset", "canvas", "audio",
    "video",
}  # fmt: skip
BLOCKS = {
    "address", "article", "aside", "blockquote", "center", "details", "div", "dl", "dd",
    "dt", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "main", "nav", "ol", "p", "pre", "section", "summary", "table", "ul", "figcaption",
}  # fmt: skip
# Deeper markup is flattened into its parent, so the Markdown stays within the limits
# blog.markdown.check_markdown() sets for quotes and lists inside each other.
MAX_DEPTH = 40
MAX_QUOTES = 4
MAX_LISTS = 4
EMPHASIS = {"em": "*", "i": "*", "strong": "**", "b": "**"}

BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:(?:(?!<!--).)*?-->", re.DOTALL)
# Each pattern stops at the next opening of its kind: unclosed ones cost one pass, not n².
CAPTION = re.compile(
    r"\[caption\b(?P<attrs>[^\]]*)\](?P<inner>(?:(?!\[/?caption\b).)*)\[/caption\]", re.DOTALL
)
CAPTION_IMAGE = re.compile(r"\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)", re.DOTALL)
CAPTION_ATTR = re.compile(r"""caption=(?:"([^"]*)"|'([^']*)')""")
EMBED = re.compile(r"\[embed\b[^\]]*\](?P<url>[^\[]*)\[/embed\]")
# [video src="…"], [audio mp3="…"]…[/audio]: WordPress's media players, as a link.
MEDIA = re.compile(
    r"\[(?P<tag>video|audio)\b(?P<attrs>[^\]]*)\](?:(?:(?!\[(?:video|audio)\b).)*?\[/(?P=tag)\])?",
    re.DOTALL,
)
MEDIA_SRC = re.compile(r"""\b(?:src|mp4|m4v|webm|ogv|mp3|m4a|ogg|wav)=(?:"([^"]*)"|'([^']*)')""")
# A "<" with no ">" before the next "<": Python's HTML parser would read the rest of the
# text again from each of them (n² time), so it is kept as a literal "<".
UNFINISHED = re.compile(r"<(?=[^<>]*(?:<|\Z))")
BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
SPACES = re.compile(r"[ \t\r\f\v\n]+")
BARE_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
SAFE_SCHEMES = {"http", "https", "mailto"}
# Characters python-markdown reads as markup anywhere in a line.
INLINE_SPECIAL = re.compile(r"([\\`*_\[\]>])")
# Starts of lines it reads as a heading, a list item or a rule.
LINE_START = re.compile(r"^([ \t]*)(#|[-+](?=[ \t]|$)|\d+(?=\.)|-(?=[- \t]*$)|=(?=[= \t]*$))")


def to_markdown(html, rewrite_url=None):
    """WordPress post HTML (classic or block editor) as Dateline Markdown.

    `rewrite_url(url)` may give each link's and image's address a new one (an upload
    copied here, a link to the old site made relative); it sees only addresses that
    passed safe_url().
    """
    token = REWRITE_URL.set(rewrite_url)
    try:
        return html_to_markdown(html)
    finally:
        REWRITE_URL.reset(token)


def html_to_markdown(html):
    html = UNFINISHED.sub("&lt;", BLOCK_COMMENT.sub("\n\n", html or ""))
    html = html.replace("\r\n", "\n").replace("\r", "\n")
    html = EMBED.sub(lambda m: link_html(m["url"]), html)
    html = MEDIA.sub(media_link, html)
    html = CAPTION.sub(caption_to_figure, html)
    root = TreeBuilder().build(html)
    return "\n\n".join(Blocks().render(root.children)).strip() + "\n"


def media_link(match):
    src = MEDIA_SRC.search(match["attrs"])
    if not src:
        return ""
    return link_html(src[1] or src[2])


def link_html(url):
    url = escape(unescape(url.strip()))
    return f'\n\n<a href="{url}">{url}</a>\n\n'


def caption_to_figure(match):
    inner = CAPTION_IMAGE.match(match["inner"])
    image, caption = (inner[1], inner[2]) if inner else (match["inner"], "")
    if not caption.strip():
        attr = CAPTION_ATTR.search(match["attrs"])
        caption = (attr[1] or attr[2]) if attr else ""
    return f"\n\n<figure>{image}<figcaption>{caption}</figcaption></figure>\n\n"


class Node:
    def __init__(self, tag, attrs=None, parent=None):
        self.tag = tag
        self.attrs = dict(attrs or {})
        self.parent = parent
        self.children = []

    def find(self, tag, stop=("blockquote",)):
        """The first descendant with this tag, not looking inside `stop` elements."""
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag:
                    return child
                if child.tag not in stop:
                    found = child.find(tag, stop)
                    if found is not None:
                        return found
        return None

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class TreeBuilder(HTMLParser):
    """A forgiving tree: unknown end tags are ignored, a block start closes an open <p>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.current = self.root
        self.dropping = 0

    def build(self, html):
        self.feed(html)
        self.close()
        return self.root

    def open_tags(self):
        node, tags = self.current, []
        while node is not None:
            tags.append(node.tag)
            node = node.parent
        return tags

    def close_to(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_starttag(self, tag, attrs):
        if self.dropping:
            if tag in DROPPED and tag not in VOID:
                self.dropping += 1
            return
        if tag in DROPPED:
            src = dict(attrs).get("src") if tag in ("iframe", "video", "audio") else None
            if src:
                self.current.children.append(Node("embed", {"src": src}, self.current))
            self.dropping = 1
            return
        open_tags = self.open_tags()
        if tag not in VOID and (
            len(open_tags) >= MAX_DEPTH
            or (tag == "blockquote" and open_tags.count("blockquote") >= MAX_QUOTES)
            or (tag in ("ul", "ol") and sum(t in ("ul", "ol") for t in open_tags) >= MAX_LISTS)
        ):
            return  # its content stays in the element around it
        if tag in BLOCKS and "p" in open_tags:
            self.close_to("p")
        if tag == "li" and self.current.tag == "li":
            if sum(t in ("ul", "ol") for t in open_tags) >= MAX_LISTS:
                return  # an item of a list too deep to keep: its text joins this one
            self.close_to("li")
        if tag in ("td", "th") and self.current.tag in ("td", "th"):
            self.close_to(self.current.tag)
        if tag == "tr" and "tr" in self.open_tags() and "table" not in self.open_tags()[:3]:
            self.close_to("tr")
        node = Node(tag, [(k, v or "") for k, v in attrs], self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and not self.dropping and self.current.tag == tag:
            self.close_to(tag)

    def handle_endtag(self, tag):
        if self.dropping:
            if tag in DROPPED:
                self.dropping -= 1
            return
        if tag in self.open_tags()[:-1]:
            self.close_to(tag)

    def handle_data(self, data):
        if not self.dropping and data:
            self.current.children.append(data)


REWRITE_URL = ContextVar("rewrite_url", default=None)


def safe_url(url, image=False):
    """The URL if it is http(s), mailto (links only) or relative; else ''."""
    # Browsers ignore these around and inside a scheme ("java\tscript:"), so the check
    # does too; spaces inside the address are kept, encoded.
    url = re.sub(r"[\x00-\x1f\x7f]+", "", (url or "").strip(" \t\n\r\f")).replace(" ", "%20")
    if not url:
        return ""
    scheme = SCHEME.match(url)
    if scheme:
        allowed = {"http", "https"} if image else SAFE_SCHEMES
        if scheme[1].lower() not in allowed:
            return ""
    elif ":" in url.split("/")[0] or url.startswith("\\") or "%20" in url.split(":")[0]:
        return ""
    if rewrite := REWRITE_URL.get():
        url = rewrite(url) or url
    return url.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def escape_text(text):
    """Plain text as Markdown that shows exactly that text."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = INLINE_SPECIAL.sub(r"\\\1", text)
    return "\n".join(LINE_START.sub(line_start_escape, line) for line in text.split("\n"))


def line_start_escape(match):
    marker = match[2]
    if marker[0].isdigit():
        return match[1] + marker + "\\"  # "1." → "1\."
    if marker == "=":  # a setext underline; Markdown has no escape for "="
        return match[1] + "&#61;"
    return match[1] + "\\" + marker


def collapse(text):
    return SPACES.sub(" ", text)


class Blocks:
    """Renders a list of nodes as Markdown blocks, splitting bare text wpautop-style."""

    def __init__(self):
        self.blocks = []
        self.pieces = []  # Markdown of the paragraph being collected; "\n" is a <br>
        self.plain = []

    def render(self, children):
        for child in children:
            self.walk(child)
        self.flush()
        return separate(self.blocks)

    def walk(self, node):
        if isinstance(node, str):
            for index, part in enumerate(BLANK_LINE.split(node)):
                if index:
                    self.flush()
                self.add_text(part)
            return
        tag = node.tag
        if tag in ("p", "div", "section", "article", "main", "header", "footer", "aside",
                   "center", "address", "details", "summary", "nav", "dl", "dt", "dd",
                   "figcaption", "li"):  # fmt: skip
            self.flush()
            for child in node.children:
                self.walk(child)
            self.flush()
        elif tag in BLOCKS or tag == "embed":
            self.flush()
            self.blocks.extend(block(node))
        else:
            self.pieces.append(inline(node))
            self.plain.append(node.text() if tag != "br" else "\n")

    def add_text(self, text):
        lines = [collapse(line) for line in text.split("\n")]
        self.pieces.append("\n".join(escape_text(line) for line in lines))
        self.plain.append(text)

    def flush(self):
        lines = [line.strip() for line in "".join(self.pieces).split("\n")]
        lines = [line for line in lines if line]
        plain = "".join(self.plain).strip()
        self.pieces, self.plain = [], []
        if not lines:
            return
        if BARE_URL.fullmatch(plain) and safe_url(plain):
            self.blocks.append(link_line(plain))
        else:
            self.blocks.append("  \n".join(lines))


def separate(blocks):
    """Put an HTML comment between two quotes or two lists, which Markdown would join."""
    result = []
    for current in blocks:
        if result and kind_of(result[-1]) and kind_of(result[-1]) == kind_of(current):
            result.append("<!-- -->")
        result.append(current)
    return result


def kind_of(text):
    if text.startswith(">"):
        return "quote"
    if re.match(r"(?:- |\d+\. )", text):
        return "list"
    return None


def link_line(url):
    return f"[{escape_text(url)}]({safe_url(url)})"


def children_blocks(node):
    return Blocks().render(node.children)


def block(node):
    """Markdown blocks for one block-level element."""
    tag = node.tag
    if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
        level = max(int(tag[1]), 2)
        text = " ".join(inline_children(node).split())
        return [f"{'#' * level} {text}"] if text else []
    if tag == "hr":
        return ["---"]
    if tag == "pre":
        if inside(node, ("blockquote", "li")):  # fences only work at the top level
            return ["\n".join("    " + line for line in node.text().strip("\n").split("\n"))]
        return [fenced(node.text())]
    if tag == "blockquote":
        return [blockquote(node)] if node.text().strip() or node.find("img") else []
    if tag in ("ul", "ol"):
        return [list_block(node)] if node.find("li", stop=("ul", "ol")) else []
    if tag == "table":
        return table(node)
    if tag == "figure":
        return figure(node)
    if tag == "embed":
        url = safe_url(node.attrs.get("src"), image=True)
        return [link_line(url)] if url else []
    return children_blocks(node)


def inside(node, tags):
    node = node.parent
    while node is not None:
        if node.tag in tags:
            return True
        node = node.parent
    return False


def fenced(code):
    code = code.strip("\n")
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{code}\n{fence}"


def quote_lines(text):
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def blockquote(node, caption=None):
    attribution = cite_attribution(node, caption)
    body = children_blocks(node)
    if attribution is None and body:
        last = body[-1].split("\n")
        match = ATTRIBUTION_LINE.match(last[-1].rstrip(" "))
        if match and not last[-1].startswith(">"):
            rest = "\n".join(last[:-1]).rstrip()
            if rest.endswith("  "):
                rest = rest.rstrip()
            body = [*body[:-1], rest] if rest else body[:-1]
            attribution = unescape_attribution(match["source"])
    if attribution and body:
        return quote_lines("\n\n".join(body)) + "\n>\n" + quote_lines(f"— {attribution}")
    if attribution:  # nothing left to quote: show the attribution as written
        body = [f"— {attribution}"]
    return quote_lines("\n\n".join(body))


def cite_attribution(node, caption=None):
    """The Markdown attribution from the quote's <cite> (or figure caption); removes it."""
    cite = node.find("cite", stop=("blockquote", "figure"))
    if cite is None or not cite.text().strip():
        cite = caption
    if cite is None or not cite.text().strip():
        return None
    if cite.parent is not None and cite in cite.parent.children:
        cite.parent.children.remove(cite)
    # The attribution line is read as written, never rendered: no escapes, only the
    # characters that would make it something else are left out.
    name = re.sub(r"[\[\]<>\\`]+", "", collapse(cite.text())).strip().lstrip("—―-– ").strip()
    if not name:
        return None
    link = cite.find("a")
    url = safe_url(link.attrs.get("href"), image=True) if link is not None else ""
    url = url or safe_url(node.attrs.get("cite"), image=True)
    text = name
    if url and url.startswith(("http://", "https://")):
        return f"[{text}]({url})"
    return text


def unescape_attribution(text):
    """An attribution line as the quoted source's name: "AT&amp;T" is "AT&T"."""
    text = re.sub(r"\\([`*_#+.!>=-])", r"\1", text).replace("&#61;", "=")
    return text.replace("&lt;", "").replace("&amp;", "&")


def figure(node):
    quote = node.find("blockquote", stop=())
    caption = node.find("figcaption")
    if quote is not None:
        if caption is not None and caption in node.children:
            node.children.remove(caption)
        return [blockquote(quote, caption)]
    blocks = []
    for child in node.children:
        if isinstance(child, Node) and child.tag == "figcaption":
            text = " ".join(inline_children(child).split())
            if text:
                blocks.append(f"*{text}*")
        elif isinstance(child, str):
            if child.strip():
                blocks.extend(Blocks().render([child]))
        else:
            blocks.extend(Blocks().render([child]))
    return blocks


def list_block(node, depth=0):
    items = []
    number = node.attrs.get("start", "1")
    number = int(number) if number.isdigit() else 1
    for child in node.children:
        if not (isinstance(child, Node) and child.tag == "li"):
            continue
        marker = f"{number}. " if node.tag == "ol" else "- "
        number += 1
        parts = []
        for part in children_blocks(child):
            if kind_of(part) == "list" and parts:
                parts[-1] = parts[-1] + "\n" + part  # a nested list right under the text
            else:
                parts.append(part)
        text = "\n\n".join(parts) or "\u00a0"
        lines = text.split("\n")
        items.append(
            marker
            + lines[0]
            + "".join("\n" + ("    " + line if line else "") for line in lines[1:])
        )
    return "\n".join(items)


def table(node):
    rows = []
    for row in iter_rows(node):
        cells = [
            " ".join(inline_children(cell).split()).replace("|", "\\|") or " "
            for cell in row.children
            if isinstance(cell, Node) and cell.tag in ("td", "th")
        ]
        if cells:
            rows.append(cells)
    if not rows:
        return []
    width = max(len(row) for row in rows)
    rows = [row + [" "] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    caption = node.find("caption")
    result = ["\n".join(lines)]
    if caption is not None and caption.text().strip():
        result.append(f"*{' '.join(inline_children(caption).split())}*")
    return result


def iter_rows(node):
    for child in node.children:
        if isinstance(child, Node):
            if child.tag == "tr":
                yield child
            elif child.tag in ("thead", "tbody", "tfoot"):
                yield from iter_rows(child)


def inline_children(node):
    return "".join(inline(child) for child in node.children)


def inline(node):
    """Markdown for inline content; "\n" stands for a line break."""
    if isinstance(node, str):
        return escape_text(collapse(node))
    tag = node.tag
    if tag == "br":
        return "\n"
    if tag in BLOCKS or tag == "embed":
        return " " + " ".join(inline_children(node).split()) + " "
    if tag in EMPHASIS:
        text = inline_children(node)
        if not text.strip():
            return text
        mark = EMPHASIS[tag]
        if inside(node, [other for other, same in EMPHASIS.items() if same == mark]):
            return text  # "**a **b** c**" would not read as one bold run
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        return f"{lead}{mark}{text.strip()}{mark}{trail}"
    if tag == "code":
        code = collapse(node.text())
        longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
        ticks = "`" * (longest + 1)
        pad = " " if code.startswith("`") or code.endswith("`") else ""
        return f"{ticks}{pad}{code}{pad}{ticks}" if code.strip() else code
    if tag == "img":
        src = safe_url(node.attrs.get("src"), image=True)
        if not src:
            return ""
        alt = escape_text(collapse(node.attrs.get("alt", ""))).strip()
        return f"![{alt}]({src})"
    if tag == "a":
        text = inline_children(node)
        url = safe_url(node.attrs.get("href"))
        if not url or not text.strip():
            return text
        return f"[{text.strip()}]({url})"
    return inline_children(node)


# Update threads ---------------------------------------------------------------------

MORE_LINE = re.compile(r"^[*_\s]*more as it develops\s*(?:…|\.\.\.|\\\.\\\.\\\.)?[*_\s]*$", re.I)
MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for name in names
}  # fmt: skip
WEEKDAYS = r"mon|tue|wed|thu|fri|sat|sun"
LABEL = re.compile(
    r"^(?P<open>\*\*|__|\*|_)?(?P<word>updated?|correction|corrected)\b"
    r"(?P<rest>[^\n]{0,40}?)\s*:(?=\s|\*|_|$)(?P<close>\*\*|__|\*|_)?\s*",
    re.IGNORECASE,
)
HEADING = re.compile(r"^#{1,6}\s+(?P<word>updates?|corrections?)\b(?P<rest>.*)$", re.I)
TIME = re.compile(
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d\d))?\s*(?P<half>[ap])\.?\s*m\b\.?|"
    r"(?P<h24>\d{1,2}):(?P<m24>\d\d)|(?P<word>noon|midnight)",
    re.IGNORECASE,
)
DAY_MONTH = re.compile(r"(?P<month>[a-z]{3,9})\.?\s+(?P<day>\d{1,2})\b|"
                       r"\b(?P<day2>\d{1,2})\s+(?P<month2>[a-z]{3,9})\b", re.I)  # fmt: skip


@dataclass
class FoundUpdate:
    kind: str  # an Update.Kind value: "update" or "correction"
    heading_text: str  # the label or heading as written ("Update 3:15pm:")
    time_hint: str  # the time or date it gives ("3:15pm", "March 4"), or ""
    body: str  # Markdown of the update, without its label


def hint_of(rest):
    """The time text in what follows an update word: " 2 (March 4)" → "March 4"."""
    rest = rest.strip()
    inside = re.search(r"\(([^)]*)\)", rest)
    if inside:
        return inside[1].strip()
    rest = rest.strip(" ,-–—").strip()
    return "" if re.fullmatch(r"(?:no\.?\s*)?#?\d+", rest, re.I) else rest


def looks_like_hint(rest):
    hint = hint_of(rest)
    return not hint or bool(
        re.search(r"\d|noon|midnight|" + WEEKDAYS, hint, re.I) or DAY_MONTH.search(hint)
    )


def label_of(chunk):
    """(kind, label text, hint, rest of the chunk) when the chunk opens an update."""
    match = LABEL.match(chunk)
    if match and looks_like_hint(match["rest"]):
        if match["open"] and match["close"] != match["open"]:
            return None
        kind = "correction" if match["word"].lower().startswith("correct") else "update"
        label = f"{match['word']}{match['rest']}:".strip()
        return kind, label, hint_of(match["rest"]), chunk[match.end() :]
    match = HEADING.match(chunk)
    if match and looks_like_hint(match["rest"]):
        kind = "correction" if match["word"].lower().startswith("correct") else "update"
        text = f"{match['word']}{match['rest']}".strip()
        return kind, text, hint_of(match["rest"].strip(" :")), ""
    return None


def has_more_line(markdown):
    """Whether the text opens a thread with a "More as it develops…" paragraph."""
    return any(MORE_LINE.match(chunk.strip()) for chunk in re.split(r"\n[ \t]*\n", markdown))


def split_updates(markdown):
    """(body, updates) for a post whose text carries its own update thread."""
    chunks = [c for c in re.split(r"\n[ \t]*\n", markdown.strip()) if c.strip()]
    chunks = [c for c in chunks if c.strip() != "<!-- -->"]
    more = next((i for i, c in enumerate(chunks) if MORE_LINE.match(c.strip())), None)
    body, updates, current = [], [], None
    for index, chunk in enumerate(chunks):
        if index == more:
            current = None
            continue
        in_thread = more is not None and index > more
        label = label_of(chunk)
        if label:
            kind, text, hint, rest = label
            if current is not None and not current.body and not current.time_hint:
                updates.remove(current)  # an "Updates" heading over labelled entries
            current = FoundUpdate(kind, text, hint, rest.strip())
            updates.append(current)
        elif current is not None and (in_thread or chunk.startswith(("> ", "!["))):
            current.body = f"{current.body}\n\n{chunk}".strip()
        elif in_thread:
            current = FoundUpdate("update", "", "", chunk)
            updates.append(current)
        else:
            current = None
            body.append(chunk)
    for update in updates:
        update.body = "\n\n".join(separate(re.split(r"\n[ \t]*\n", update.body))) + "\n"
    return "\n\n".join(separate(body)) + "\n", updates


def parse_date_hint(hint, post_date):
    """The day a hint names ("March 4", "4 March"), in the post's year; else None."""
    for match in DAY_MONTH.finditer(hint or ""):
        month = MONTHS.get((match["month"] or match["month2"]).lower())
        day = int(match["day"] or match["day2"])
        if month is None:
            continue
        try:
            found = date(post_date.year, month, day)
        except ValueError:
            return None
        if (post_date.date() - found).days > 180:  # a December post updated in January
            found = found.replace(year=found.year + 1)
        return found
    return None


def parse_time_hint(hint, post_date):
    """The moment a hint gives ("3:15pm", "March 4, 5 p.m."), in post_date's time zone.

    Without a date the day is the post's, or the next day when that time would fall
    before the post; without a time nothing can be told: None.
    """
    match = TIME.search(hint or "")
    if not match:
        return None
    if match["word"]:
        hour, minute = (12, 0) if match["word"].lower() == "noon" else (0, 0)
    elif match["half"]:
        hour, minute = int(match["hour"]), int(match["minute"] or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["half"].lower() == "p" else 0)
    else:
        hour, minute = int(match["h24"]), int(match["m24"])
    if hour > 23 or minute > 59:
        return None
    day = parse_date_hint(hint, post_date)
    found = datetime.combine(day or post_date.date(), time(hour, minute), post_date.tzinfo)
    if day is None and found < post_date:
        found += timedelta(days=1)
    return found
