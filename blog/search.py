"""Search: published posts found by their words, ranked, with highlighted snippets.

One interface, two backends. PostgreSQL keeps a weighted tsvector on each post (GIN index,
websearch_to_tsquery, ts_rank, ts_headline); SQLite keeps an FTS5 table (bm25, snippet()).
Post.save(), Update.save() and delete, and Source.save() keep both current; rebuild()
fills them after writes that skip save() (seed_bench, `manage.py rebuild_search_index`).

What a post is found by, most telling first: its title; its excerpt and the names (and
aliases) of the sources it quotes; its body, quotes included; its updates.
"""

import html
import re
from dataclasses import dataclass
from itertools import batched

from django import forms
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Exists, F, OuterRef, Q, StringAgg, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify
from taggit.models import Tag

from blog.caching import remember
from blog.markdown import clean_text
from blog.models import Category, Post, Quote, Source, Update

MAX_QUERY_CHARS = 200
MAX_SOURCES = 3  # source:"…" terms read from one query; each is a lookup
CONFIG = "english"
FTS_TABLE = "blog_post_search"
FTS_COLUMNS = ("title", "extra", "body", "updates")
# A word in the title ranks a post above one that only mentions it. PostgreSQL weighs its
# labels A, B, C, D as 1.0, 0.4, 0.2, 0.1; bm25() takes one weight per FTS5 column.
FTS_WEIGHTS = "10.0, 4.0, 2.0, 1.0"
# Where a snippet's matches begin and end: control characters, which clean_text() keeps
# out of every title, body and name, so nothing a writer typed can stand for them.
START, STOP = "\x02", "\x03"
MARKED = re.compile(f"{START}([^{START}{STOP}]*){STOP}")
BATCH = 1000

# --- Reading a query -----------------------------------------------------------------

# source:"Dana Reyes" or source:Reyes; "a phrase" (closed by the end if unbalanced);
# -word and -"a phrase"; any other run of characters is a word.
TOKEN = re.compile(
    r"""(?P<source>source:(?:"(?P<name>[^"]*)"?|(?P<bare>[^\s"]+)))
      | (?P<phrase_not>-)?"(?P<phrase>[^"]*)"?
      | (?P<word_not>-)?(?P<word>[^\s"]+)""",
    re.IGNORECASE | re.VERBOSE,
)
# What both engines index as words: letters and digits, in any script.
WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    text: str  # as typed, for PostgreSQL's parser to read as it read the posts
    words: tuple  # letters and digits only, for FTS5
    negated: bool = False


@dataclass
class Query:
    """A search as typed: any clause may match (`or`); a clause needs all its terms."""

    clauses: list
    sources: list
    truncated: bool = False

    @property
    def has_words(self):
        return bool(self.clauses)

    def websearch(self):
        """For websearch_to_tsquery: each term quoted, so nothing typed is an operator."""

        def term(term):
            return f'{"-" if term.negated else ""}"{term.text}"'

        return " or ".join(" ".join(map(term, clause)) for clause in self.clauses)

    def fts5(self):
        """An FTS5 MATCH expression: every term a quoted string of words, never syntax."""

        def string(term):
            return '"' + " ".join(term.words) + '"'

        def clause(terms):
            wanted = " AND ".join(string(t) for t in terms if not t.negated)
            return f"({wanted})" + "".join(f" NOT {string(t)}" for t in terms if t.negated)

        return " OR ".join(f"({clause(terms)})" for terms in self.clauses)


def parse(text):
    """A Query from what a reader typed: websearch syntax, plus source:"Name"."""
    text = " ".join(clean_text(text or "").split())
    truncated = len(text) > MAX_QUERY_CHARS
    clauses, terms, sources = [], [], []
    for match in TOKEN.finditer(text[:MAX_QUERY_CHARS]):
        if match["source"]:
            name = " ".join((match["name"] if match["name"] is not None else match["bare"]).split())
            if name and name.casefold() not in map(str.casefold, sources):
                sources.append(name)
            continue
        phrase = match["phrase"] is not None
        raw = match["phrase"] if phrase else match["word"]
        negated = bool(match["phrase_not"] or match["word_not"])
        if not phrase and not negated and raw.casefold() == "or":
            clauses.append(terms)
            terms = []
            continue
        if words := tuple(WORD.findall(raw)):
            terms.append(Term(" ".join(raw.split()), words, negated))
    clauses.append(terms)
    # Exclusions alone would match nearly every post: a clause needs a word to look for.
    clauses = [clause for clause in clauses if any(not term.negated for term in clause)]
    return Query(clauses, sources, truncated)


# --- Keeping the index current -----------------------------------------------------


def quoted_names(now):
    """The names and aliases of the sources a post quotes where readers can see it."""
    quotes = (
        Quote.objects.filter(post=OuterRef("pk"))
        .filter(Q(update=None) | Q(published_at__lte=now))
        .order_by()
        .values("post")
    )
    names = Concat("source__name", Value(","), "source__aliases", output_field=models.TextField())
    # Commas separate words for both engines; SQLite takes no other separator with DISTINCT.
    return Subquery(
        quotes.annotate(names=StringAgg(names, Value(","), distinct=True)).values("names")
    )


def updates_html(now):
    """Every update of a post whose time has come, one after another."""
    updates = (
        Update.objects.filter(post=OuterRef("pk"), published_at__lte=now).order_by().values("post")
    )
    return Subquery(updates.annotate(html=StringAgg("body_html", Value(" "))).values("html"))


def next_update_due(now):
    """The first update dated ahead: its words are left out until then."""
    later = Update.objects.filter(post=OuterRef("pk"), published_at__gt=now)
    return Subquery(later.order_by("published_at").values("published_at")[:1])


# A tag of stored, sanitised HTML: nh3 double-quotes every attribute value, and a value
# may hold ">".
TAG = re.compile(r"""<(?:[^>"']|"[^"]*"|'[^']*')*>""")


def plain_text(fragment):
    """The words of stored HTML, for FTS5 (PostgreSQL's parser reads HTML itself)."""
    text = TAG.sub(" ", fragment or "")
    return " ".join(html.unescape(text).split())


def write(posts, **values):
    """Set the index's columns without the page-cache bump and modified_at of
    ContentQuerySet.update(): the save that called us has done both."""
    return models.QuerySet.update(posts, **values)


def refresh(post_ids, using=None):
    """Index these posts again, as they are now (a post that is gone leaves the index)."""
    using = using or DEFAULT_DB_ALIAS
    now = timezone.now()
    with transaction.atomic(using=using):
        for ids in batched(sorted(set(post_ids)), BATCH):
            posts = Post.objects.using(using).filter(pk__in=ids)
            if connections[using].vendor == "postgresql":
                vector = (
                    SearchVector("title", weight="A", config=CONFIG)
                    + SearchVector("excerpt", quoted_names(now), weight="B", config=CONFIG)
                    + SearchVector("body_html", weight="C", config=CONFIG)
                    + SearchVector(updates_html(now), weight="D", config=CONFIG)
                )
                # PostgreSQL's parser reads HTML itself: tags and entities are not words.
                write(posts, search_vector=vector, search_refresh_at=next_update_due(now))
            else:
                write_fts(posts, ids, now, using)


def write_fts(posts, ids, now, using):
    """Replace the posts' rows of the FTS5 table with their text as it is now."""
    rows = posts.annotate(
        quoted_names=quoted_names(now),
        updates_html=updates_html(now),
        update_due=next_update_due(now),
    ).values_list(
        "pk", "title", "excerpt", "quoted_names", "body_html", "updates_html", "update_due"
    )
    documents, due = [], {}
    for pk, title, excerpt, names, body_html, updates, next_due in rows:
        extra = f"{excerpt} {(names or '').replace(',', ' ')}"
        documents.append((pk, title, extra, plain_text(body_html), plain_text(updates)))
        due.setdefault(next_due, []).append(pk)
    with connections[using].cursor() as cursor:
        cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(pk,) for pk in ids])
        columns = ", ".join(FTS_COLUMNS)
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, {columns}) VALUES (%s, %s, %s, %s, %s)", documents
        )
    for when, pks in due.items():
        write(Post.objects.using(using).filter(pk__in=pks), search_refresh_at=when)


def rebuild(using=None, progress=None):
    """Index every post afresh; `progress(done, total)` is called after each batch."""
    using = using or DEFAULT_DB_ALIAS
    ids = list(Post.objects.using(using).order_by("pk").values_list("pk", flat=True))
    if connections[using].vendor != "postgresql":
        with connections[using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")
    for done in range(0, len(ids), BATCH):
        refresh(ids[done : done + BATCH], using)
        if progress:
            progress(min(done + BATCH, len(ids)), len(ids))
    if connections[using].vendor != "postgresql":
        with connections[using].cursor() as cursor:
            # Merge the index's segments, as a long-lived index would be.
            cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
    return len(ids)


def refresh_due():
    """Index the posts whose updates dated ahead have fallen due since they were saved.

    Once per content version is enough: the version renews when anything scheduled falls
    due (blog/caching.py), updates included.
    """

    def refresh_now():
        due = Post.objects.filter(search_refresh_at__lte=timezone.now()).order_by()
        if ids := list(due.values_list("pk", flat=True)[:BATCH]):
            refresh(ids)
        return True

    remember("search-refreshed", refresh_now)


# --- Searching -------------------------------------------------------------------------


@dataclass
class Hit:
    post: Post
    snippet: str


def highlight(text, unescape=False):
    """Safe HTML of a snippet: the text escaped, then its matches wrapped in <mark>."""
    text = html.unescape(text) if unescape else text
    pieces = MARKED.split(" ".join((text or "").split()))
    plain = [piece.replace(START, "").replace(STOP, "") for piece in pieces[::2]]
    marked = [*pieces[1::2], None]
    pairs = zip(plain, marked, strict=True)
    return format_html_join(
        "",
        "{}{}",
        ((before, format_html("<mark>{}</mark>", m) if m else "") for before, m in pairs),
    )


class Search:
    """What a query finds among `posts` (published, filtered), best first. A Paginator
    pages it: count() once, then one slice, which is a list of Hits."""

    def __init__(self, query, posts, sources=()):
        self.query, self.posts, self.sources = query, posts, list(sources)
        self.now = timezone.now()
        self.vendor = connections[posts.db].vendor

    def count(self):
        if not self.query.has_words:
            return self.posts.count()
        if self.vendor == "postgresql":
            return self.posts.filter(search_vector=self.tsquery()).count()
        sql, params = self.fts_sql("COUNT(*)")
        return self.fetch(sql, params)[0][0]

    def __getitem__(self, window):
        offset = window.start or 0
        limit = window.stop - offset
        if not self.query.has_words:
            newest = self.posts.order_by("-published_at", "-id").values_list("pk", flat=True)
            return self.hits(list(newest[offset : offset + limit]))
        if self.vendor == "postgresql":
            ids = self.ranked().values_list("pk", flat=True)[offset : offset + limit]
            return self.hits(list(ids), headline=True)
        rows = self.fts_page(offset, limit)
        return self.hits([pk for pk, _ in rows], snippets=dict(rows))

    def plan(self, limit=10):
        """The database's plan for the first page (tests read it)."""
        if self.vendor == "postgresql":
            return self.ranked()[:limit].explain()
        sql, params = self.fts_page_sql(0, limit)
        rows = self.fetch(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row) for row in rows)

    # PostgreSQL

    def tsquery(self):
        return SearchQuery(self.query.websearch(), search_type="websearch", config=CONFIG)

    def ranked(self):
        tsquery = self.tsquery()
        return (
            self.posts.filter(search_vector=tsquery)
            .annotate(rank=SearchRank(F("search_vector"), tsquery))
            .order_by("-rank", "-published_at", "-id")
        )

    def headline(self):
        """ts_headline of a post's excerpt, body and visible updates (HTML: tags dropped)."""
        text = models.TextField()
        space = Value(" ", output_field=text)
        updates = Coalesce(updates_html(self.now), Value(""), output_field=text)
        document = Concat("excerpt", space, "body_html", space, updates, output_field=text)
        return SearchHeadline(
            document,
            self.tsquery(),
            config=CONFIG,
            start_sel=START,
            stop_sel=STOP,
            max_words=35,
            min_words=15,
            max_fragments=2,
            fragment_delimiter=" … ",
        )

    # SQLite

    def fts_sql(self, columns):
        """SELECT `columns` of the FTS5 rows that match and whose post is among `posts`."""
        inner = self.posts.filter(pk=RawSQL(f"{FTS_TABLE}.rowid", (), models.BigIntegerField()))
        inner_sql, inner_params = inner.values("pk").query.sql_with_params()
        sql = (
            f"SELECT {columns} FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND EXISTS ({inner_sql})"
        )
        return sql, [self.query.fts5(), *inner_params]

    def fts_page_sql(self, offset, limit):
        """A page's (id, body snippet, updates snippet), best first, in one query: the page
        is chosen first, so only its rows are snippeted."""
        rank = f"bm25({FTS_TABLE}, {FTS_WEIGHTS}), {FTS_TABLE}.rowid DESC"
        page, params = self.fts_sql(f"{FTS_TABLE}.rowid")

        def snippet(column):
            return f"snippet({FTS_TABLE}, {column}, %s, %s, ' … ', 30)"

        sql = (
            f"SELECT rowid, {snippet(2)}, {snippet(3)} FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH %s "
            f"AND rowid IN ({page} ORDER BY {rank} LIMIT %s OFFSET %s) ORDER BY {rank}"
        )
        return sql, [START, STOP, START, STOP, self.query.fts5(), *params, limit, offset]

    def fts_page(self, offset, limit):
        """[(id, snippet)]: the body's best passage, or the updates' when only they match."""
        rows = self.fetch(*self.fts_page_sql(offset, limit))
        return [
            (pk, body if START in body or START not in updates else updates)
            for pk, body, updates in rows
        ]

    def fetch(self, sql, params):
        with connections[self.posts.db].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    # The page's posts

    def hits(self, ids, headline=False, snippets=None):
        if not ids:
            return []
        posts = Post.objects.using(self.posts.db).filter(pk__in=ids).select_related("category")
        posts = posts.defer("body", "body_html", "search_vector")
        if headline:
            posts = posts.annotate(headline=self.headline())
        by_id = {post.pk: post for post in posts}
        quotes = self.quotes(ids) if self.sources and not self.query.has_words else {}
        hits = []
        for pk in ids:
            post = by_id[pk]
            if headline:
                snippet = highlight(post.headline, unescape=True)
            elif snippets:
                snippet = highlight(snippets[pk])
            elif pk in quotes:
                snippet = format_html("“{}”", quotes[pk])
            else:
                snippet = highlight(post.excerpt)
            hits.append(Hit(post, snippet))
        return hits

    def quotes(self, ids):
        """What the sources asked for said in each post: its first quote of them."""
        quotes = Quote.objects.using(self.posts.db).filter(
            post__in=ids, source__in=self.sources, published_at__lte=self.now
        )
        found = {}
        ordered = quotes.order_by("post_id", "update_id", "position")
        for post_id, text in ordered.values_list("post_id", "text"):
            found.setdefault(post_id, text)
        return found


class QueryField(forms.CharField):
    def to_python(self, value):
        # Characters no post can contain (a NUL) are dropped, not refused.
        return clean_text(super().to_python(value))


class SearchForm(forms.Form):
    q = QueryField(label="Search for", required=False)
    category = forms.ChoiceField(
        label="Section",
        required=False,
        error_messages={"invalid_choice": "There is no such section."},
    )
    year = forms.ChoiceField(
        label="Year",
        required=False,
        error_messages={"invalid_choice": "Nothing was published that year."},
    )
    # Set by links (DESIGN.md's URL contract); shown as filters the reader can remove.
    tag = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    source = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "All sections"), *section_choices()]
        self.fields["year"].choices = [("", "Any year"), *((str(y), str(y)) for y in years)]
        self.notes = []

    def clean_tag(self):
        slug = self.cleaned_data["tag"]
        if not slug:
            return None
        tag = Tag.objects.filter(slug=slug).first()
        if tag is None:
            raise forms.ValidationError("No post carries that tag.")
        return tag

    def clean_source(self):
        slug = self.cleaned_data["source"]
        if not slug:
            return None
        source = Source.objects.filter(slug=slug).first()
        if source is None:
            raise forms.ValidationError("Nobody of that name has been quoted here.")
        return source

    def is_search(self):
        """Whether the reader asked for anything: a query or a filter."""
        return self.is_bound and any(self.data.get(name) for name in self.fields)

    def search(self):
        """The Search the form asks for, or None (and a note saying why) if it finds nothing."""
        data = self.cleaned_data
        query = parse(data["q"])
        if query.truncated:
            self.notes.append(f"Only the first {MAX_QUERY_CHARS} characters were searched.")
        posts = Post.objects.published()
        if data["category"]:
            section = Category.with_slug(data["category"])
            posts = posts.filter(category__in=Category.descendant_ids(section.pk))
        if data["year"]:
            posts = posts.filter(published_at__year=int(data["year"]))
        if data["tag"]:
            posts = posts.tagged(data["tag"])
        sources = [data["source"]] if data["source"] else []
        if len(query.sources) > MAX_SOURCES:
            self.notes.append(f"Only the first {MAX_SOURCES} sources named were searched for.")
        for name in query.sources[:MAX_SOURCES]:
            source = Source.objects.named(name) or Source.objects.filter(slug=slugify(name)).first()
            if source is None:
                self.notes.append(f"Nobody called “{name}” has been quoted here.")
                return None
            sources.append(source)
        for source in sources:
            quotes = Quote.objects.filter(post=OuterRef("pk"), source=source)
            posts = posts.filter(Exists(quotes.filter(published_at__lte=timezone.now())))
        if not (query.has_words or sources or data["tag"] or data["category"] or data["year"]):
            if data["q"]:
                self.notes.append(
                    "Add a word to look for: a search can’t be made of exclusions "
                    "and punctuation alone."
                )
            return None
        return Search(query, posts, sources)


def section_choices():
    """(slug, name) of every section, each under its parent, indented."""
    tree = Category.tree()
    children = {}
    for category in sorted(tree.values(), key=lambda c: c.name.casefold()):
        children.setdefault(category.parent_id, []).append(category)
    choices, todo = [], [(c, 0) for c in reversed(children.get(None, []))]
    while todo:
        category, depth = todo.pop()
        choices.append((category.slug, "\u2003" * depth + category.name))
        todo.extend((c, depth + 1) for c in reversed(children.get(category.pk, [])))
    return choices
