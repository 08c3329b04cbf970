"""Search: found by words, ranked, highlighted, filtered; kept current; hostile queries are
friendly pages. The behaviour tests run on whichever database the suite runs on
(PostgreSQL's tsvector or SQLite's FTS5); the plan tests on their own engine."""

import random
import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog import search
from blog.caching import current_version
from blog.models import Post, Source
from tests.factories import CategoryFactory, PostFactory, UpdateFactory, UserFactory, quoted

pytestmark = pytest.mark.django_db


def results(client, **params):
    """(titles in order, the page's HTML) of a search."""
    response = client.get("/search/", params)
    assert response.status_code == 200, params
    html = response.content.decode()
    titles = re.findall(r'class="search-result-title"><a href="[^"]*">([^<]*)</a>', html)
    return titles, html


def titles(client, q, **params):
    return results(client, q=q, **params)[0]


def snippets(html):
    return re.findall(r'<p class="search-snippet">(.*?)</p>', html, re.DOTALL)


# --- Reading a query ----------------------------------------------------------------


def test_a_query_is_read_as_websearch_syntax():
    query = search.parse('council "night bus" -transit or ferry source:"Dana Reyes"')
    assert query.sources == ["Dana Reyes"]
    assert [[(t.text, t.negated) for t in clause] for clause in query.clauses] == [
        [("council", False), ("night bus", False), ("transit", True)],
        [("ferry", False)],
    ]
    assert query.websearch() == '"council" "night bus" -"transit" or "ferry"'
    assert query.fts5() == '(("council" AND "night bus") NOT "transit") OR (("ferry"))'


@pytest.mark.parametrize(
    "text",
    [
        'NEAR(a b) AND title:x OR ^y* "z',
        "'; DROP TABLE blog_post; --",
        '\\" OR 1=1 --',
        "a:b{c}[d](e)",
    ],
)
def test_nothing_typed_reaches_fts5_as_syntax(text):
    expression = search.parse(text).fts5()
    # Only quoted strings of letters and digits, joined by our own operators.
    strings = re.findall(r'"([^"]*)"', expression)
    assert strings and all(re.fullmatch(r"[^\W_]+( [^\W_]+)*", s) for s in strings), expression
    between = re.sub(r'"[^"]*"', "", expression)
    assert re.fullmatch(r"[() ]*(?:(?:AND|OR|NOT)[() ]*)*", between), expression


def test_exclusions_alone_and_punctuation_are_not_a_query():
    for text in ["-council", "!!! ???", "or or", '""', "-", '-"night bus" or -ferry']:
        assert not search.parse(text).has_words, text


def test_a_long_query_is_cut_to_its_first_200_characters():
    query = search.parse("budget " * 100)
    assert query.truncated
    assert len(query.clauses[0]) <= 200 // len("budget ") + 1


# --- Finding and ranking ---------------------------------------------------------------


def test_a_title_match_ranks_above_a_body_match(client):
    in_body = PostFactory(
        title="Notes from the week",
        body="The dredging contract came up twice. Dredging, dredging, dredging.",
        published_at=timezone.now() - timedelta(hours=1),
    )
    in_title = PostFactory(
        title="The dredging contract, explained",
        body="Nothing else to say here.",
        published_at=timezone.now() - timedelta(days=3),
    )
    PostFactory(title="Unrelated", body="Ferries and buses.")
    assert titles(client, "dredging") == [in_title.title, in_body.title]


def test_words_are_found_in_updates_quotes_and_the_names_of_sources(client):
    post = PostFactory(title="Harbour notes", body=quoted("Tide tables are late.", "— Ilse Marrow"))
    UpdateFactory(post=post, body="The ferry timetable is out.")
    for word in ("timetable", "tide", "Marrow"):
        assert titles(client, word) == ["Harbour notes"], word


def test_stemming_finds_other_forms_of_a_word(client):
    PostFactory(title="Council votes again", body="Members voted twice.")
    assert titles(client, "voting") == ["Council votes again"]


def test_a_phrase_matches_only_its_words_together(client):
    PostFactory(title="Buses", body="The night bus routes are cut.")
    PostFactory(title="Trains", body="The bus depot is open at night.")
    assert titles(client, '"night bus"') == ["Buses"]
    assert sorted(titles(client, "night bus")) == ["Buses", "Trains"]


def test_a_word_after_a_minus_leaves_posts_with_it_out(client):
    PostFactory(title="Budget and transit", body="Money for buses.")
    PostFactory(title="Budget alone", body="Money for schools.")
    assert titles(client, "budget -transit") == ["Budget alone"]
    assert titles(client, 'budget -"for buses"') == ["Budget alone"]


def test_or_finds_either_word(client):
    PostFactory(title="Ferries", body="Crossings doubled.")
    PostFactory(title="Trams", body="Lines extended.")
    PostFactory(title="Parks", body="Benches painted.")
    assert sorted(titles(client, "crossings or lines")) == ["Ferries", "Trams"]


def test_snippets_highlight_the_words_found_and_escape_everything_else(client):
    PostFactory(
        title="Markup",
        body="Writers type <script>alert(1)</script> & other things about the ferry timetable.",
    )
    found, html = results(client, q="timetable")
    assert found == ["Markup"]
    [snippet] = snippets(html)
    assert "<mark>timetable</mark>" in snippet
    assert "<script>" not in html.split('class="search-results"')[1]
    # Only <mark> is markup; everything else the writer typed is text.
    assert set(re.findall(r"<(/?\w+)", snippet)) == {"mark", "/mark"}


def test_an_update_is_the_snippet_when_only_it_matches(client):
    post = PostFactory(title="Story", body="The first version.")
    UpdateFactory(post=post, body="Later: the harbourmaster resigned.")
    [snippet] = snippets(results(client, q="harbourmaster")[1])
    assert "<mark>harbourmaster</mark>" in snippet


# --- Only what readers may see ---------------------------------------------------------


def test_drafts_and_scheduled_posts_are_not_found_until_their_time(client):
    PostFactory(title="Draft gazebo", status=Post.Status.DRAFT, published_at=None)
    PostFactory(title="Scheduled gazebo", published_at=timezone.now() + timedelta(minutes=5))
    PostFactory(title="Published gazebo")
    assert titles(client, "gazebo") == ["Published gazebo"]
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert sorted(titles(client, "gazebo")) == ["Published gazebo", "Scheduled gazebo"]


def test_an_update_dated_ahead_is_found_once_its_time_comes(client):
    post = PostFactory(title="Story", body="Waiting.")
    UpdateFactory(
        post=post,
        body="Embargoed: the quarry deal.",
        published_at=timezone.now() + timedelta(hours=1),
    )
    assert titles(client, "quarry") == []
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert titles(client, "quarry") == ["Story"]


# --- Kept current on save --------------------------------------------------------------


def test_the_index_follows_every_edit(client):
    post = PostFactory(title="Old headline", body="Plain words.")
    assert titles(client, "headline") == ["Old headline"]

    post.title = "New masthead"
    post.save()
    assert titles(client, "headline") == []
    assert titles(client, "masthead") == ["New masthead"]

    update = UpdateFactory(post=post, body="An aqueduct burst.")
    assert titles(client, "aqueduct") == ["New masthead"]
    update.delete()
    assert titles(client, "aqueduct") == []

    post.body = quoted("We are looking into it.", "— Wendell Quist")
    post.save()
    assert titles(client, "Quist") == ["New masthead"]
    source = Source.objects.get(name="Wendell Quist")
    source.name = "Wendell Quist-Ambrose"
    source.aliases = "W. Q. Ambrose"
    source.save()
    assert titles(client, "Ambrose") == ["New masthead"]


def test_bulk_created_posts_are_found_after_rebuild_search_index(client):
    author, section = UserFactory(), CategoryFactory()
    Post.objects.bulk_create(
        Post(
            title=f"Bulk marmalade {n}",
            slug=f"bulk-{n}",
            author=author,
            category=section,
            body="Jam.",
            body_html="<p>Jam.</p>",
            status=Post.Status.PUBLISHED,
            published_at=timezone.now() - timedelta(hours=n + 1),
        )
        for n in range(3)
    )
    assert titles(client, "marmalade") == []
    out = StringIO()
    call_command("rebuild_search_index", stdout=out)
    cache.clear()  # the command wrote nothing readers see: pages stay valid
    assert len(titles(client, "marmalade")) == 3
    assert "Indexed 3 posts" in out.getvalue()


# --- Filters and source:"Name" ---------------------------------------------------------


@pytest.fixture
def filtered_site():
    politics = CategoryFactory(name="Politics", slug="politics")
    city = CategoryFactory(name="City Hall", slug="city-hall", parent=politics)
    world = CategoryFactory(name="World", slug="world")
    now = timezone.now()
    last_year = now.replace(year=now.year - 1)
    PostFactory(title="Levy in politics", category=politics, tags=["budget"])
    PostFactory(
        title="Levy at city hall",
        category=city,
        body=quoted("The levy is dead.", "— Dana Reyes, The Tribune"),
        tags=["budget", "transit"],
    )
    PostFactory(title="Levy abroad", category=world, published_at=last_year)
    Source.objects.filter(name="Dana Reyes").update(aliases="D. Reyes")
    return {
        "this_year": timezone.localtime(now).year,
        "last_year": timezone.localtime(last_year).year,
    }


def test_a_section_filter_includes_its_subsections(client, filtered_site):
    assert sorted(titles(client, "levy", category="politics")) == [
        "Levy at city hall",
        "Levy in politics",
    ]
    assert titles(client, "levy", category="city-hall") == ["Levy at city hall"]


def test_tag_source_and_year_filters(client, filtered_site):
    assert sorted(titles(client, "levy", tag="budget")) == ["Levy at city hall", "Levy in politics"]
    assert titles(client, "levy", tag="transit") == ["Levy at city hall"]
    assert titles(client, "levy", source="dana-reyes") == ["Levy at city hall"]
    assert titles(client, "levy", year=filtered_site["last_year"]) == ["Levy abroad"]
    found, html = results(client, q="levy", tag="budget")
    assert 'name="tag" value="budget"' in html  # a new search keeps the filter
    assert '<a href="?q=levy">show every tag</a>' in html


def test_filters_alone_list_posts_newest_first(client, filtered_site):
    found, html = results(client, category="politics")
    assert found == ["Levy at city hall", "Levy in politics"]
    assert "2 posts found" in html


def test_source_syntax_finds_what_a_source_said_by_name_or_alias(client, filtered_site):
    for q in ('source:"Dana Reyes"', 'source:"d. reyes"', "source:dana-reyes"):
        found, html = results(client, q=q)
        assert found == ["Levy at city hall"], q
        assert "The levy is dead." in snippets(html)[0]
    assert titles(client, 'levy source:"Dana Reyes"') == ["Levy at city hall"]
    assert titles(client, 'abroad source:"Dana Reyes"') == []


def test_an_unknown_source_or_filter_is_a_friendly_message(client, filtered_site):
    _, html = results(client, q='source:"Nobody Atall"')
    assert "Nobody called “Nobody Atall” has been quoted here." in html
    for params, message in [
        ({"category": "no-such"}, "There is no such section."),
        ({"tag": "no-such"}, "No post carries that tag."),
        ({"source": "no-such"}, "Nobody of that name has been quoted here."),
        ({"year": "1066"}, "Nothing was published that year."),
        ({"year": "99999999999999999999"}, "Nothing was published that year."),
    ]:
        _, html = results(client, q="levy", **params)
        assert message in html, params
        assert 'class="search-result"' not in html


# --- The page ---------------------------------------------------------------------------


def test_results_are_counted_and_paginated(client):
    for n in range(12):
        PostFactory(
            title=f"Gravel report {n:02d}", published_at=timezone.now() - timedelta(hours=n + 1)
        )
    found, html = results(client, q="gravel")
    assert len(found) == 10
    assert "12 posts found; page 1 of 2." in html
    assert 'rel="next" href="?q=gravel&amp;page=2"' in html
    second, html = results(client, q="gravel", page=2)
    assert len(second) == 2 and not set(second) & set(found)
    assert client.get("/search/", {"q": "gravel", "page": 3}).status_code == 404
    assert client.get("/search/", {"q": "gravel", "page": "abc"}).status_code == 404


def test_the_search_page_is_noindex_and_every_page_has_a_search_box(client):
    post = PostFactory()
    html = client.get("/search/", {"q": "council"}).content.decode()
    assert '<meta name="robots" content="noindex">' in html
    for url in ("/", post.get_absolute_url(), "/search/"):
        page = client.get(url).content.decode()
        form = re.search(
            r'<form class="site-search" role="search" action="/search/"[^>]*>(.*?)</form>',
            page,
            re.S,
        )
        assert form, url
        assert '<label class="visually-hidden" for="site-search-q">' in form[1]
        assert 'name="q"' in form[1]


def test_an_empty_search_invites_one(client):
    PostFactory()
    for params in ({}, {"q": ""}, {"q": "   "}):
        _, html = results(client, **params)
        assert "Type a word or two" in html
        assert "found" not in html.split("<main")[1]


HOSTILE_QUERIES = [
    "x" * 10240,
    "!!!???...,,,;;;",
    "'; DROP TABLE blog_post; --",
    "1 OR 1=1",
    "' UNION SELECT password FROM auth_user --",
    '"unbalanced',
    '"',
    '""""',
    '" OR "',
    "NEAR(council budget, 2)",
    "title:council",
    "council*",
    "^council",
    "council AND OR NOT",
    "(((council",
    "-",
    "--",
    "- - -",
    "or",
    "source:",
    'source:"',
    'source:"Dana',
    "source:" + "x" * 500,
    "\x00",
    "council\x00budget",
    "\u202eevil",
    "📰 🗞",
    "ünïcødé",
    "&lt;script&gt;",
    "<script>alert(1)</script>",
    "%00%ff",
    "\\",
    "a" * 300 + " b",
    " ".join(["or"] * 60),
    " ".join(f"w{n}" for n in range(100)),
]


@pytest.mark.parametrize("q", HOSTILE_QUERIES, ids=range(len(HOSTILE_QUERIES)))
def test_hostile_queries_get_a_friendly_page(client, q):
    PostFactory(title="Council budget", body="The council met.")
    response = client.get("/search/", {"q": q})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert 'class="search-count"' in html or 'class="notice"' in html or "Type a word" in html


def test_hostile_filters_are_form_errors_not_failures(client):
    PostFactory(title="Council budget")
    for name in ("category", "tag", "source", "year", "page"):
        for value in ("\x00", "x" * 10240, "../etc", "-1", "99999999999999999999", "%ff"):
            status = client.get("/search/", {"q": "council", name: value}).status_code
            assert status in ((404,) if name == "page" else (200,)), (name, value)


def test_wordpress_search_addresses_lead_to_the_search_page(client):
    response = client.get("/", {"s": "night bus"})
    assert response.status_code == 301
    assert response["Location"] == "/search/?q=night+bus"
    long = client.get("/", {"s": "x" * 10240})
    assert long.status_code == 301 and len(long["Location"]) < 300


# --- Queries, caching ------------------------------------------------------------------


def search_queries(client, params):
    cache.clear()
    current_version()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/search/", params).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "gravel"},
        {"q": "gravel", "category": "politics", "tag": "budget", "year": "YEAR"},
        {"q": 'source:"Dana Reyes"'},
    ],
    ids=["words", "filters", "source"],
)
def test_a_search_runs_a_few_queries_however_many_posts_it_finds(client, settings, params):
    settings.DATELINE = {**settings.DATELINE, "PAGE_CACHE_SECONDS": 0}
    politics = CategoryFactory(name="Politics", slug="politics")
    params = {k: str(timezone.localtime().year) if v == "YEAR" else v for k, v in params.items()}

    def add(numbers):
        for n in numbers:
            post = PostFactory(
                title=f"Gravel report {n}",
                category=politics,
                tags=["budget"],
                body=quoted("Gravel is up.", "— Dana Reyes, The Tribune"),
                published_at=timezone.now() - timedelta(minutes=n + 1),
            )
            UpdateFactory(post=post, body="More gravel.")

    add(range(2))
    few = search_queries(client, params)
    add(range(2, 40))
    many = search_queries(client, params)
    assert few == many
    assert many <= 9


def test_search_pages_are_cached_and_go_stale_with_any_change(client, django_assert_num_queries):
    PostFactory(title="Gravel report")
    first = client.get("/search/", {"q": "gravel"})
    assert first.status_code == 200 and first["ETag"]
    with django_assert_num_queries(0):
        again = client.get("/search/", {"q": "gravel"})
    assert again["ETag"] == first["ETag"]
    # Another query is another page.
    other = client.get("/search/", {"q": "gravel -report"})
    assert "Gravel report" not in other.content.decode()
    PostFactory(title="Second gravel report")
    assert "Second gravel report" in client.get("/search/", {"q": "gravel"}).content.decode()
    assert (
        client.get("/search/", {"q": "gravel"}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    )


def test_no_other_page_reads_the_search_vector(client):
    post = PostFactory(
        title="Council split",
        category=CategoryFactory(slug="politics"),
        body=quoted("Nobody has the votes.", "— Dana Reyes, The Tribune"),
    )
    UpdateFactory(post=post, kind="correction", body="A correction.")
    urls = ["/", post.get_absolute_url(), "/category/politics/", "/source/dana-reyes/"]
    urls += ["/corrections/", "/feed/", "/corrections/feed/", "/source/dana-reyes/feed/"]
    for url in urls:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        assert not [q for q in queries if "search_vector" in q["sql"]], url


# --- Each engine uses its index -------------------------------------------------------

# fmt: off
VOCABULARY = [
    "council", "budget", "ferry", "harbour", "transit", "levy", "school", "housing", "rent",
    "wage", "port", "strike", "vote", "tram", "bridge", "flood", "market", "tax", "park",
    "library", "clinic", "pension", "zoning", "audit", "reserve",
]
# fmt: on


def bulk_posts(count, rare_every):
    """`count` published posts, bulk-created; every `rare_every`-th says "quarantine"."""
    rng = random.Random(7)
    author, section = UserFactory(), CategoryFactory()
    now = timezone.now()
    posts = []
    for n in range(count):
        words = rng.choices(VOCABULARY, k=60)
        if n % rare_every == 0:
            words[30] = "quarantine"
        text = " ".join(words)
        posts.append(
            Post(
                title=" ".join(rng.choices(VOCABULARY, k=6)),
                slug=f"bulk-{n}",
                author=author,
                category=section,
                body=text,
                body_html=f"<p>{text}</p>",
                status=Post.Status.PUBLISHED,
                published_at=now - timedelta(minutes=n + 1),
            )
        )
    Post.objects.bulk_create(posts, batch_size=2000)
    search.rebuild()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's plan: run the suite with DATABASE_URL=postgres://…",
)
def test_postgresql_search_uses_its_gin_index_at_10000_posts():
    bulk_posts(10_000, rare_every=500)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE blog_post")
    found = search.Search(search.parse("quarantine"), Post.objects.published())
    plan = found.plan()
    assert "post_search_vector" in plan, plan
    assert "Seq Scan on blog_post" not in plan, plan
    assert found.count() == 20
    assert len(found[0:10]) == 10


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's FTS5 plan: the suite runs on PostgreSQL"
)
def test_sqlite_search_reads_its_fts5_index():
    bulk_posts(2_000, rare_every=100)
    found = search.Search(search.parse("quarantine"), Post.objects.published())
    plan = found.plan()
    assert "VIRTUAL TABLE INDEX" in plan and search.FTS_TABLE in plan, plan
    assert found.count() == 20
    hits = found[0:10]
    assert len(hits) == 10 and all("<mark>quarantine</mark>" in hit.snippet for hit in hits)
